#pragma once
// Reading a YAML file into Config: the only place that knows YAML.
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace corral::config {

// Reads and validates the file; every problem found is reported, not just the first.
LoadResult load_file(const std::string& path);

// Same for text already in memory; `name` stands for the file in messages.
LoadResult load_string(std::string_view text, const std::string& name);

}  // namespace corral::config
