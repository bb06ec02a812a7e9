#pragma once
// Durations ("250ms", "1m30s") and sizes ("16KiB", "100MB") as written in the config file.
#include <cstdint>
#include <optional>
#include <string_view>

#include "config/config.hpp"

namespace corral::config {

// Whole numbers with units h, m, s, ms, largest first, each at most once: "2s", "1m30s", "250ms".
// A bare number has no unit and is not a duration.
std::optional<Duration> parse_duration(std::string_view text);

// A whole number of bytes, optionally followed by B, KiB, MiB, GiB (1024-based) or KB, MB, GB
// (1000-based): "16KiB", "100 MB", "4096".
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace corral::config
