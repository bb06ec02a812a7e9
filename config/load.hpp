#pragma once
// Reading a YAML file into Config: the only place that knows YAML.
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "config/config.hpp"

namespace corral::config {

// Reads and validates the file; every problem found is reported, not just the first.
LoadResult load_file(const std::string& path);

// Same for text already in memory; `name` stands for the file in messages.
LoadResult load_string(std::string_view text, const std::string& name);

// Where each key path's value is written (line, column; 1-based), for problems found after
// loading, such as those on the machine (proxy/master/preflight.hpp).
using KeyPositions = std::map<std::string, std::pair<int, int>>;

// The same, also telling where each key is written.
LoadResult load_file(const std::string& path, KeyPositions& positions);
LoadResult load_string(std::string_view text, const std::string& name, KeyPositions& positions);

// Sets the line and column of `problem` from its key, or from its nearest parent key written.
void locate(Problem& problem, const KeyPositions& positions);

}  // namespace corral::config
