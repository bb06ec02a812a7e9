#pragma once
// Checks on a Config that need no YAML: required entries, ranges, clashing addresses.
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace corral::config {

// Every problem found, each naming its key path (e.g. "upstreams[1].weight") and config.source
// as the file; line and column are left 0 for the loader to fill in.
std::vector<Problem> validate(const Config& config);

// Insert mode's HMAC key: sticky.key, or the value of the variable sticky.key_env; nothing when
// neither gives one.
std::optional<std::string> insert_key(const Sticky& sticky);

}  // namespace corral::config
