#pragma once
// Request counters of one proxy thread; the admin listener sums every thread's on a scrape.
#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "proxy/counter.hpp"

namespace corral::proxy {

// Upper bounds (seconds) of the request latency histogram.
inline constexpr std::array<double, 12> latency_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

class ThreadMetrics {
 public:
  explicit ThreadMetrics(std::size_t upstreams);

  // Per upstream (index = slot), plus one extra row for answers given without an upstream.
  struct Upstream {
    std::array<Counter, 5> by_class;  // 1xx..5xx
    Counter connect_failures;
    Counter ejections;
  };

  void request_done(std::size_t row, unsigned status, std::chrono::nanoseconds took);

  std::vector<Upstream> upstreams;  // size = upstreams + 1; the last is "none"
  std::array<Counter, latency_buckets.size() + 1> latency;  // last = +Inf
  Counter latency_sum_us;
  Counter retries;
  Counter masked_failures;
  Counter connections_accepted;
  Counter connections_refused;
  Counter connections_closed;
  Counter bad_requests;
};

}  // namespace corral::proxy
