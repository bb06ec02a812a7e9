#include "proxy/master/worker_spec.hpp"

#include <filesystem>

namespace corral::master {

bool WorkerSpec::starts_differently(const WorkerSpec& other) const {
  return argv != other.argv || cwd != other.cwd || env != other.env || port_base != other.port_base;
}

std::uint16_t WorkerSpec::fixed_port(std::uint32_t slot) const {
  return port_base == 0 ? 0 : static_cast<std::uint16_t>(port_base + slot);
}

WorkerSpec resolve_workers(const config::Workers& workers, const std::string& config_path,
                           unsigned cores) {
  namespace fs = std::filesystem;
  WorkerSpec spec;
  spec.argv = workers.command;
  std::error_code ec;
  fs::path config_dir = fs::absolute(fs::path(config_path), ec).parent_path();
  fs::path cwd = workers.cwd.empty() ? config_dir : config_dir / fs::path(workers.cwd);
  spec.cwd = cwd.lexically_normal().string();
  if (spec.cwd.size() > 1 && spec.cwd.back() == '/') spec.cwd.pop_back();
  spec.env = workers.env;
  spec.count = workers.count == 0 ? (cores == 0 ? 1 : cores) : workers.count;
  spec.port_base = workers.port_base;
  spec.ready = workers.ready;
  spec.stop = workers.stop;
  spec.restart = workers.restart;
  return spec;
}

}  // namespace corral::master
