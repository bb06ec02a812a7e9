#include "proxy/metrics.hpp"

namespace corral::proxy {

ThreadMetrics::ThreadMetrics(std::size_t n) : upstreams(n + 1) {}

void ThreadMetrics::request_done(std::size_t row, unsigned status, std::chrono::nanoseconds took) {
  unsigned cls = status / 100;
  if (cls >= 1 && cls <= 5) upstreams[row].by_class[cls - 1].add();
  double s = std::chrono::duration<double>(took).count();
  std::size_t b = 0;
  while (b < latency_buckets.size() && s > latency_buckets[b]) ++b;
  latency[b].add();
  latency_sum_us.add(static_cast<std::uint64_t>(s * 1e6));
}

}  // namespace corral::proxy
