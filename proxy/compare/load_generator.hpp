#pragma once
// The built-in closed-loop load generator: `users` simulated users on one thread of their own,
// each with a keep-alive connection and a cookie jar, logging in and then making a session of
// requests with think time, checking every answer (answer_check). Runs until its deadline or
// stop(); the totals are read live (progress) and in full once it has finished.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "proxy/compare/load_stats.hpp"
#include "proxy/compare/scenario.hpp"

namespace corral::compare {

// A running load.
class LoadGenerator {
 public:
  using Clock = std::chrono::steady_clock;

  // Users connect to 127.0.0.1:`port`; the load begins at `start` and ends at start+duration.
  LoadGenerator(const Scenario& scenario, std::uint16_t port, Clock::time_point start,
                std::uint64_t seed);
  ~LoadGenerator();  // stops and joins

  void run();   // starts the thread
  void stop();  // every user ends after its current request
  // Waits for the users to finish (each ends its current request, bounded by the request
  // timeout), then returns what they saw.
  const LoadStats& finish();

  std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

  struct State;  // the users' shared state, on the generator's thread

 private:
  std::unique_ptr<State> state_;
  std::thread thread_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace corral::compare
