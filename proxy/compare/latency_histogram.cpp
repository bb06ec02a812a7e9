#include "proxy/compare/latency_histogram.hpp"

#include <algorithm>
#include <bit>

namespace corral::compare {

// Values below 64 have a bucket each; above, a value v with its highest bit at position p falls
// in 32 * e + (v >> e) with e = p - 5, so each power of two spans 32 buckets.
std::size_t LatencyHistogram::bucket_of(std::uint64_t v) {
  if (v < 64) return static_cast<std::size_t>(v);
  const int e = std::bit_width(v) - 1 - 5;
  const std::size_t b = 32 * static_cast<std::size_t>(e) + static_cast<std::size_t>(v >> e);
  return std::min(b, bucket_count - 1);
}

std::uint64_t LatencyHistogram::bucket_low(std::size_t b) {
  if (b < 64) return b;
  const std::size_t e = b / 32 - 1;
  return static_cast<std::uint64_t>(b - 32 * e) << e;
}

std::uint64_t LatencyHistogram::bucket_high(std::size_t b) {
  if (b < 64) return b;
  const std::size_t e = b / 32 - 1;
  return ((static_cast<std::uint64_t>(b - 32 * e) + 1) << e) - 1;
}

void LatencyHistogram::record(std::uint64_t micros) {
  ++buckets_[bucket_of(micros)];
  ++count_;
  sum_ += micros;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the request sought, counted from 1.
  auto rank = static_cast<std::uint64_t>(q * double(count_) + 0.5);
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      const std::uint64_t mid = (bucket_low(b) + bucket_high(b)) / 2;
      return std::min(mid, max_);
    }
  }
  return max_;
}

std::vector<std::uint64_t> LatencyHistogram::counts_between(
    const std::vector<std::uint64_t>& edges) const {
  std::vector<std::uint64_t> out(edges.size() + 1, 0);
  for (std::size_t b = 0; b < bucket_count; ++b) {
    if (!buckets_[b]) continue;
    // A bucket goes where its low end falls: buckets are narrow against the edges used.
    const auto low = bucket_low(b);
    const auto at = std::upper_bound(edges.begin(), edges.end(), low) - edges.begin();
    out[static_cast<std::size_t>(at)] += buckets_[b];
  }
  return out;
}

}  // namespace corral::compare
