#pragma once
// Brings ejected upstreams back and runs the optional active health check: a TCP connect after
// the backoff (passive), or `GET health.path` every interval expecting 2xx (active).
#include <vector>

#include "proxy/asio.hpp"
#include "proxy/shared_state.hpp"

namespace corral::proxy {

class UpstreamProber {
 public:
  UpstreamProber(asio::io_context& ioc, SharedState& shared);
  void start();
  void stop() { stopped_ = true; }

 private:
  awaitable<void> loop();
  awaitable<bool> probe(balancer::SlotId s);

  asio::io_context& ioc_;
  SharedState& shared_;
  std::vector<std::chrono::steady_clock::time_point> next_check_;
  std::vector<bool> probing_;
  bool stopped_ = false;
};

}  // namespace corral::proxy
