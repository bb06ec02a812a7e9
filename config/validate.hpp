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

// Where a master that runs insert mode without sticky.key or sticky.key_env keeps the random key
// it made for its lifetime: its own environment, inherited by every proxy generation it starts
// (and by no worker).
inline constexpr const char* generated_insert_key_env = "CORRAL_STICKY_INSERT_KEY";

// Insert mode's HMAC key: sticky.key, or the value of the variable sticky.key_env, or (neither
// given) of generated_insert_key_env; nothing when that variable is not set.
std::optional<std::string> insert_key(const Sticky& sticky);

}  // namespace corral::config
