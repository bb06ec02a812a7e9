#include <gtest/gtest.h>

#include "config/load.hpp"

namespace corral::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view base = "listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\n";

LoadResult load(std::string_view rest) {
  return load_string(std::string(base) + std::string(rest), "c.yaml");
}

TEST(ShutdownDelayConfig, DefaultsToNoDelay) {
  LoadResult result = load("");
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->shutdown_delay, milliseconds(0));
}

TEST(ShutdownDelayConfig, ReadsADuration) {
  LoadResult result = load("shutdown_delay: 5s\n");
  ASSERT_TRUE(result.config) << result.problems.front().to_string();
  EXPECT_EQ(result.config->shutdown_delay, seconds(5));
  EXPECT_EQ(load("shutdown_delay: 0s\n").config->shutdown_delay, milliseconds(0));
  EXPECT_EQ(load("shutdown_delay: 1m30s\n").config->shutdown_delay, seconds(90));
}

TEST(ShutdownDelayConfig, ANumberWithoutUnitIsRefusedWithItsPlace) {
  LoadResult result = load("shutdown_delay: 5\n");
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].to_string(),
            "c.yaml:3:17: shutdown_delay: '5' has no unit; write 5s or 5ms");
}

TEST(ShutdownDelayConfig, NotADurationIsRefused) {
  LoadResult result = load("shutdown_delay: soon\n");
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].line, 3);
  EXPECT_EQ(result.problems[0].column, 17);
  EXPECT_EQ(result.problems[0].key, "shutdown_delay");
}

TEST(ShutdownDelayConfig, MoreThanAnHourIsRefusedWithItsPlace) {
  LoadResult result = load("shutdown_delay: 2h\n");
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].to_string(),
            "c.yaml:3:17: shutdown_delay: must be at most 1h (it delays every stop by that long)");
}

TEST(ShutdownDelayConfig, AMisspelledKeyIsSuggested) {
  LoadResult result = load("shutdown_dealy: 5s\n");
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].key, "shutdown_dealy");
  EXPECT_NE(result.problems[0].message.find("did you mean 'shutdown_delay'"), std::string::npos)
      << result.problems[0].message;
}

}  // namespace
}  // namespace corral::config
