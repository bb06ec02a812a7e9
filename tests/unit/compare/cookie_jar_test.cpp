#include "proxy/compare/cookie_jar.hpp"

#include <gtest/gtest.h>

namespace corral::compare {
namespace {

TEST(CookieJar, KeepsSetsReplacesAndDeletes) {
  CookieJar jar;
  EXPECT_EQ(jar.header(), "");
  jar.apply("demo_sid=abc; Path=/; HttpOnly", 0);
  jar.apply("corral_affinity=s1.sig; Path=/; Max-Age=86400", 0);
  EXPECT_EQ(jar.header(), "demo_sid=abc; corral_affinity=s1.sig");
  jar.apply("demo_sid=def; Path=/", 0);
  EXPECT_EQ(jar.header(), "demo_sid=def; corral_affinity=s1.sig");
  jar.apply("demo_sid=; Path=/; Max-Age=0", 0);
  EXPECT_EQ(jar.header(), "corral_affinity=s1.sig");
  EXPECT_FALSE(jar.has("demo_sid"));
  EXPECT_TRUE(jar.has("corral_affinity"));
}

TEST(CookieJar, IgnoresWhatIsNoCookie) {
  CookieJar jar;
  jar.apply("garbage", 0);
  jar.apply("", 0);
  EXPECT_EQ(jar.size(), 0u);
}

}  // namespace
}  // namespace corral::compare
