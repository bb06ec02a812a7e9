#include "proxy/compare/latency_histogram.hpp"

#include <gtest/gtest.h>

namespace corral::compare {
namespace {

TEST(LatencyHistogram, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(LatencyHistogram, BucketsAreContiguousAndNarrow) {
  for (std::size_t b = 0; b + 1 < LatencyHistogram::bucket_count; ++b) {
    EXPECT_EQ(LatencyHistogram::bucket_high(b) + 1, LatencyHistogram::bucket_low(b + 1)) << b;
    EXPECT_EQ(LatencyHistogram::bucket_of(LatencyHistogram::bucket_low(b)), b);
    EXPECT_EQ(LatencyHistogram::bucket_of(LatencyHistogram::bucket_high(b)), b);
    const double low = double(LatencyHistogram::bucket_low(b));
    const double width = double(LatencyHistogram::bucket_high(b)) - low + 1;
    if (b >= 64) EXPECT_LE(width / low, 1.0 / 32 + 1e-9) << b;
  }
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 50; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 25u);
  EXPECT_EQ(h.percentile(1.0), 50u);
  EXPECT_EQ(h.max(), 50u);
  EXPECT_DOUBLE_EQ(h.mean(), 25.5);
}

TEST(LatencyHistogram, PercentilesWithinThreePercent) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v * 10);  // 10 us .. 1 s
  for (double q : {0.5, 0.9, 0.99}) {
    const double want = q * 1000000;
    EXPECT_NEAR(double(h.percentile(q)), want, want * 0.03) << q;
  }
  EXPECT_EQ(h.percentile(1.0), 1000000u);  // never above the maximum
}

TEST(LatencyHistogram, MergeAddsCounts) {
  LatencyHistogram a, b;
  a.record(100);
  b.record(5000);
  b.record(7000);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 7000u);
}

TEST(LatencyHistogram, CountsBetweenEdges) {
  LatencyHistogram h;
  h.record(100);
  h.record(900);
  h.record(1100);  // edges inside a bucket go with the bucket's low end: keep clear of them
  h.record(5000);
  h.record(60000000);
  auto c = h.counts_between({1000, 10000});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], 2u);  // below 1 ms
  EXPECT_EQ(c[1], 2u);  // 1 ms .. 10 ms
  EXPECT_EQ(c[2], 1u);  // 10 ms and more, a huge value included
}

}  // namespace
}  // namespace corral::compare
