#pragma once
// Checks on a Config that need no YAML: required entries, ranges, clashing addresses.
#include <vector>

#include "config/config.hpp"

namespace corral::config {

// Every problem found, each naming its key path (e.g. "upstreams[1].weight") and config.source
// as the file; line and column are left 0 for the loader to fill in.
std::vector<Problem> validate(const Config& config);

}  // namespace corral::config
