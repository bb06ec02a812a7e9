#include "config/units.hpp"

#include <gtest/gtest.h>

namespace corral::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, SingleUnits) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("2s"), seconds(2));
  EXPECT_EQ(parse_duration("1m"), minutes(1));
  EXPECT_EQ(parse_duration("1h"), hours(1));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(ParseDuration, CombinedLargestFirst) {
  EXPECT_EQ(parse_duration("1m30s"), seconds(90));
  EXPECT_EQ(parse_duration("1h2m3s4ms"), hours(1) + minutes(2) + seconds(3) + milliseconds(4));
  EXPECT_EQ(parse_duration("2s500ms"), milliseconds(2500));
  EXPECT_EQ(parse_duration(" 2s "), seconds(2));
}

TEST(ParseDuration, Rejects) {
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("30"));    // no unit
  EXPECT_FALSE(parse_duration("s"));     // no number
  EXPECT_FALSE(parse_duration("2 s"));   // inner space
  EXPECT_FALSE(parse_duration("1.5s"));  // whole numbers only
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("30s1m"));  // smallest first
  EXPECT_FALSE(parse_duration("1s1s"));   // unit repeated
  EXPECT_FALSE(parse_duration("2d"));
  EXPECT_FALSE(parse_duration("2 parsecs"));
  EXPECT_FALSE(parse_duration("1m30"));  // trailing number without unit
  EXPECT_FALSE(parse_duration("99999999999999999999h"));
  EXPECT_FALSE(parse_duration("9999999999999999h"));  // overflows milliseconds
}

TEST(ParseSize, Units) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("10B"), 10u);
  EXPECT_EQ(parse_size("16KiB"), 16u * 1024);
  EXPECT_EQ(parse_size("100MiB"), 100u * 1024 * 1024);
  EXPECT_EQ(parse_size("2GiB"), 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_size("16KB"), 16'000u);
  EXPECT_EQ(parse_size("100MB"), 100'000'000u);
  EXPECT_EQ(parse_size("2GB"), 2'000'000'000u);
  EXPECT_EQ(parse_size("16 KiB"), 16u * 1024);
}

TEST(ParseSize, Rejects) {
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("KiB"));
  EXPECT_FALSE(parse_size("16kib"));  // units are case-sensitive: "Mb" would mean megabits
  EXPECT_FALSE(parse_size("16K"));
  EXPECT_FALSE(parse_size("1.5MiB"));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("16KiB8"));
  EXPECT_FALSE(parse_size("99999999999999999999"));
  EXPECT_FALSE(parse_size("99999999999GiB"));  // overflows 64 bits
}

}  // namespace
}  // namespace corral::config
