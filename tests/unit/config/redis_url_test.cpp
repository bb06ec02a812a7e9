#include "config/redis_url.hpp"

#include <gtest/gtest.h>

namespace corral::config {
namespace {

RedisTarget ok(std::string_view text) {
  auto parsed = parse_redis_url(text);
  if (auto* message = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << text << ": " << *message;
    return {};
  }
  return std::get<RedisTarget>(parsed);
}

std::string error(std::string_view text) {
  auto parsed = parse_redis_url(text);
  if (auto* message = std::get_if<std::string>(&parsed)) return *message;
  ADD_FAILURE() << text << " was accepted";
  return {};
}

TEST(RedisUrl, HostAlone) {
  auto t = ok("redis://127.0.0.1");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 6379);
  EXPECT_EQ(t.db, 0u);
  EXPECT_FALSE(t.tls);
  EXPECT_TRUE(t.user.empty());
  EXPECT_TRUE(t.password.empty());
}

TEST(RedisUrl, PortAndDatabase) {
  auto t = ok("redis://cache.internal:6380/3");
  EXPECT_EQ(t.host, "cache.internal");
  EXPECT_EQ(t.port, 6380);
  EXPECT_EQ(t.db, 3u);
  EXPECT_EQ(ok("redis://h:1/").db, 0u);
}

TEST(RedisUrl, UserAndPasswordArePercentDecoded) {
  auto t = ok("redis://app:p%40ss%3Aw@10.0.0.1:6379/1");
  EXPECT_EQ(t.user, "app");
  EXPECT_EQ(t.password, "p@ss:w");
  EXPECT_EQ(t.host, "10.0.0.1");
}

TEST(RedisUrl, PasswordAloneBeforeAtOrAfterColon) {
  EXPECT_EQ(ok("redis://:secret@h").password, "secret");
  EXPECT_EQ(ok("redis://:secret@h").user, "");
  EXPECT_EQ(ok("redis://secret@h").password, "secret");
  EXPECT_EQ(ok("redis://secret@h").user, "");
}

TEST(RedisUrl, Ipv6InBrackets) {
  auto t = ok("redis://[::1]:7000/2");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 7000);
  EXPECT_EQ(t.db, 2u);
  EXPECT_EQ(ok("redis://[::1]").port, 6379);
}

TEST(RedisUrl, TlsScheme) { EXPECT_TRUE(ok("rediss://h:6380").tls); }

TEST(RedisUrl, Rejected) {
  EXPECT_NE(error("http://h").find("redis://"), std::string::npos);
  EXPECT_NE(error("127.0.0.1:6379").find("redis://"), std::string::npos);
  EXPECT_NE(error("redis://").find("no host"), std::string::npos);
  EXPECT_NE(error("redis://h:0").find("1..65535"), std::string::npos);
  EXPECT_NE(error("redis://h:70000").find("1..65535"), std::string::npos);
  EXPECT_NE(error("redis://h:").find("empty port"), std::string::npos);
  EXPECT_NE(error("redis://h/x").find("database"), std::string::npos);
  EXPECT_NE(error("redis://::1:6379").find("brackets"), std::string::npos);
  EXPECT_NE(error("redis://[::1").find("']'"), std::string::npos);
  EXPECT_NE(error("redis://a:%zz@h").find("%-escape"), std::string::npos);
  EXPECT_NE(error("redis://h/0?x=1").find("query"), std::string::npos);
}

TEST(RedisUrl, MessagesNeverRepeatThePassword) {
  EXPECT_EQ(error("redis://u:hunter2@h:99999").find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace corral::config
