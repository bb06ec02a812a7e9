#include "proxy/compare/metrics_scrape.hpp"

#include <gtest/gtest.h>

namespace corral::compare {
namespace {

constexpr std::string_view text =
    "# HELP corral_requests_total Requests answered.\n"
    "# TYPE corral_requests_total counter\n"
    "corral_requests_total{upstream=\"slot0\",class=\"2xx\"} 120\n"
    "corral_requests_total{upstream=\"slot1\",class=\"2xx\"} 80\n"
    "corral_requests_total{upstream=\"slot1\",class=\"5xx\"} 2\n"
    "corral_requests_total_extra 99\n"
    "corral_redis_commands_total 404\n";

TEST(MetricsScrape, SumsEverySampleOfAMetric) {
  EXPECT_DOUBLE_EQ(sum_metric(text, "corral_requests_total"), 202);
  EXPECT_DOUBLE_EQ(sum_metric(text, "corral_redis_commands_total"), 404);
}

TEST(MetricsScrape, FiltersByLabel) {
  EXPECT_DOUBLE_EQ(sum_metric(text, "corral_requests_total", "class=\"5xx\""), 2);
  EXPECT_DOUBLE_EQ(sum_metric(text, "corral_requests_total", "upstream=\"slot1\""), 82);
}

TEST(MetricsScrape, MissingIsZero) { EXPECT_DOUBLE_EQ(sum_metric(text, "corral_nothing"), 0); }

}  // namespace
}  // namespace corral::compare
