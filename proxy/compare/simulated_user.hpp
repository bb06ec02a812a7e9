#pragma once
// One simulated user of the load generator: logs in, then makes a session of requests (who am
// I, add to cart, show cart, now and then log out and in again) with think time between them,
// over one keep-alive connection, checking each answer. A lost session is counted once, then
// the user logs in again.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "proxy/compare/cookie_jar.hpp"
#include "proxy/compare/load_stats.hpp"
#include "proxy/compare/scenario.hpp"

namespace corral::compare {

// What every user of one load shares; lives on the generator's thread.
struct UserContext {
  using Clock = std::chrono::steady_clock;
  const Scenario* scenario = nullptr;
  boost::asio::io_context* io = nullptr;
  boost::asio::ip::tcp::endpoint endpoint;
  Clock::time_point start;
  Clock::time_point deadline;
  bool stopping = false;
  LoadStats stats;
  RequestLine login, me, cart_add, cart, logout, plain;
  std::atomic<std::uint64_t>* requests = nullptr;
  std::atomic<std::uint64_t>* failed = nullptr;
  std::atomic<std::uint64_t>* lost = nullptr;
};

// One user's whole run, as a coroutine on the generator's io_context.
boost::asio::awaitable<void> run_user(UserContext& context, std::uint32_t index,
                                      std::uint64_t seed);

}  // namespace corral::compare
