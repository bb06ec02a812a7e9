#include "proxy/master/readiness.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace corral::master {
namespace {

bool ready(std::string_view json) { return is_ready_message(boost::json::parse(json)); }

TEST(Readiness, ReadyMessages) {
  EXPECT_TRUE(ready(R"("ready")"));
  EXPECT_TRUE(ready(R"({"ready":true})"));
  EXPECT_TRUE(ready(R"({"ready":true,"port":3000})"));
}

TEST(Readiness, OtherMessages) {
  EXPECT_FALSE(ready(R"("Ready")"));
  EXPECT_FALSE(ready(R"({"ready":false})"));
  EXPECT_FALSE(ready(R"({"ready":"yes"})"));
  EXPECT_FALSE(ready(R"({"status":"ready"})"));
  EXPECT_FALSE(ready(R"(["ready"])"));
  EXPECT_FALSE(ready("true"));
}

}  // namespace
}  // namespace corral::master
