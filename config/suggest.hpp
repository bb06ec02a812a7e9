#pragma once
// "Did you mean" hints for near-miss key and value names.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace corral::config {

// Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when at most two edits away (the first one listed on a tie).
std::optional<std::string> suggest(std::string_view word,
                                   std::span<const std::string_view> candidates);

}  // namespace corral::config
