#pragma once
// A corral of compare's own for one mode: the same binary (`/proc/self/exe run -c FILE`) with a
// generated config in the mode's directory, asked for its status, told to reload and stopped
// over its control socket, as `corral status` / `reload` / `stop` do.
#include <sys/types.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "proxy/compare/child_process.hpp"

namespace corral::compare {

// A running corral master with its proxy and workers.
class CorralInstance {
 public:
  // Writes `config_yaml` to DIR/corral.yaml, starts corral (output to DIR/corral.log) and
  // waits up to `ready_timeout` for its master to report ready; throws std::runtime_error with
  // the reason (and the log's tail) when it does not.
  CorralInstance(const std::string& dir, const std::string& config_yaml,
                 std::chrono::milliseconds ready_timeout);
  ~CorralInstance();  // stops it

  std::uint16_t port() const { return port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }

  // The master's status (as `corral status --json`), or nothing when it does not answer.
  std::optional<boost::json::object> status() const;
  // `corral reload`: a rolling restart of the workers; blocks until it is done. The master's
  // final message, or the error.
  std::string reload() const;
  // GET /metrics on the admin listener; empty when it cannot be read.
  std::string metrics() const;
  void stop();

 private:
  std::string config_path_;
  std::string log_path_;
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
};

// The port of "http://127.0.0.1:8080" (0 when there is none).
std::uint16_t port_of_url(std::string_view url);

// This corral binary's path.
std::string self_binary();

// The last `lines` lines of a file, for error messages.
std::string tail_of_file(const std::string& path, std::size_t lines = 15);

}  // namespace corral::compare
