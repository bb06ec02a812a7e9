#pragma once
// Request latencies in microseconds, kept as a log-linear histogram (32 steps per power of two:
// within about 3 %), so that millions of requests cost a fixed 6 KiB and merge by addition.
#include <array>
#include <cstdint>
#include <vector>

namespace corral::compare {

// A latency distribution: percentiles, maximum, mean.
class LatencyHistogram {
 public:
  static constexpr std::size_t bucket_count = 768;

  void record(std::uint64_t micros);
  void merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0.0; }
  // The latency below which a fraction `q` (0..1) of requests fall (the middle of its bucket,
  // never above the maximum); 0 when empty.
  std::uint64_t percentile(double q) const;
  // Requests per range between consecutive `edges` (micros, ascending): edges.size()+1 counts,
  // the first below edges[0], the last at or above edges.back().
  std::vector<std::uint64_t> counts_between(const std::vector<std::uint64_t>& edges) const;

  static std::size_t bucket_of(std::uint64_t micros);
  static std::uint64_t bucket_low(std::size_t bucket);   // smallest value in it
  static std::uint64_t bucket_high(std::size_t bucket);  // largest value in it

 private:
  std::array<std::uint64_t, bucket_count> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace corral::compare
