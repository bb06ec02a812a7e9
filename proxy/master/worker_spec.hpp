#pragma once
// The workers section of a config with its paths resolved: what the master starts in each slot.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace corral::master {

// How to start, check and stop the workers of every slot.
struct WorkerSpec {
  std::vector<std::string> argv;
  std::string cwd;  // absolute
  std::vector<std::pair<std::string, std::string>> env;
  std::uint32_t count = 1;
  std::uint16_t port_base = 0;
  config::WorkerReady ready;
  config::WorkerStop stop;
  config::WorkerRestart restart;

  // Whether a worker started from `other` would run differently (command, cwd, env, port
  // scheme): a reload then needs a rolling restart.
  bool starts_differently(const WorkerSpec& other) const;
  // The port of `slot` with a port base; 0 when ports are picked freely.
  std::uint16_t fixed_port(std::uint32_t slot) const;
};

// `cores`: what count: max means here. A relative cwd is taken from the directory of
// `config_path`, and so is a missing one.
WorkerSpec resolve_workers(const config::Workers& workers, const std::string& config_path,
                           unsigned cores);

}  // namespace corral::master
