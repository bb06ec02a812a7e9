#pragma once
// A closed-loop load of many concurrent clients on one thread (Asio coroutines), for the
// cluster tests that need the article's load shape: hundreds of clients, each sending its next
// request as soon as the last one is answered, on keep-alive connections.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tests/integration/harness.hpp"

namespace corral::test {

struct AsyncLoadResult {
  long ok = 0;                         // 2xx answers
  long failed = 0;                     // non-2xx answers, resets, timeouts
  std::vector<std::string> failures;   // the first few, for messages
  std::vector<double> latencies_ms;    // of every answered request
  double seconds = 0;

  double rate() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
  double percentile_ms(double p) const;
};

// `clients` connections to 127.0.0.1:`port` for `length`, GET `target` in a loop; `during` runs
// on the calling thread while the load goes on (faults: kills, restarts), then the load stops.
AsyncLoadResult run_async_load(std::uint16_t port, unsigned clients, Millis length,
                               const std::function<void()>& during = {},
                               const std::string& target = "/");

}  // namespace corral::test
