#pragma once
// What `corral check` and `corral run` verify on the machine before anything starts, without
// side effects: the files and folders a config names, its listen ports, the worker command.
#include <string>
#include <vector>

#include "config/config.hpp"

namespace corral::master {

// Every problem found, each naming its key path and config.source as the file; line and column
// are left 0 (config::locate fills them in). `ports`: also try each listen and admin address
// (a bind without SO_REUSEPORT, closed at once); off when a master for this config already
// holds them.
std::vector<config::Problem> preflight(const config::Config& config, const std::string& config_path,
                                       bool ports);

}  // namespace corral::master
