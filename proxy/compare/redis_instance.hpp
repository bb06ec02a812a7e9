#pragma once
// A redis-server of compare's own for shared mode: a free loopback port, no persistence (a
// restart empties it, as a Redis without persistence does), stopped with compare.
#include <cstdint>
#include <memory>
#include <string>

#include "proxy/compare/child_process.hpp"

namespace corral::compare {

// A running redis-server.
class RedisInstance {
 public:
  // The redis-server binary, or empty when it is not installed.
  static std::string binary();

  // Starts it and waits until it answers PING (throws std::runtime_error when it does not).
  RedisInstance(const std::string& log_path);
  ~RedisInstance();

  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  // Killed and started again on the same port, empty.
  void restart();

 private:
  void start();
  std::string log_path_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// A loopback port nothing listens on at the moment of asking.
std::uint16_t free_loopback_port();

}  // namespace corral::compare
