// The sessions: section, loaded from YAML and validated.
#include <gtest/gtest.h>

#include "config/load.hpp"

namespace corral::config {
namespace {

std::vector<std::string> lines_of(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const Problem& problem : result.problems) lines.push_back(problem.to_string());
  return lines;
}

LoadResult load(std::string_view sessions_section) {
  return load_string(
      "listen: 127.0.0.1:8080\nupstreams: [127.0.0.1:3000]\n" + std::string(sessions_section),
      "c.yaml");
}

TEST(Sessions, AbsentByDefault) {
  auto result = load("");
  ASSERT_TRUE(result.config);
  EXPECT_FALSE(result.config->sessions);
}

TEST(Sessions, FullSection) {
  auto result = load(R"(sessions:
  store: redis
  redis: redis://app:pw@127.0.0.1:6380/2
  cookie: sid
  ttl: 30m
  header: X-App-Session
  on_store_down: fail_open
  timeouts: { connect: 300ms, command: 150ms }
)");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  const Sessions& s = *result.config->sessions;
  EXPECT_EQ(s.redis.host, "127.0.0.1");
  EXPECT_EQ(s.redis.port, 6380);
  EXPECT_EQ(s.redis.user, "app");
  EXPECT_EQ(s.redis.password, "pw");
  EXPECT_EQ(s.redis.db, 2u);
  EXPECT_EQ(s.cookie, "sid");
  EXPECT_EQ(s.ttl, Duration(30 * 60 * 1000));
  EXPECT_EQ(s.header, "X-App-Session");
  EXPECT_EQ(s.on_store_down, StoreDown::fail_open);
  EXPECT_EQ(s.connect_timeout, Duration(300));
  EXPECT_EQ(s.command_timeout, Duration(150));
}

TEST(Sessions, Defaults) {
  auto result = load("sessions: { redis: redis://127.0.0.1 }\n");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  const Sessions& s = *result.config->sessions;
  EXPECT_EQ(s.cookie, "corral_sid");
  EXPECT_EQ(s.ttl, Duration(30 * 60 * 1000));
  EXPECT_EQ(s.header, "X-Corral-Session");
  EXPECT_EQ(s.on_store_down, StoreDown::fail_closed);
  EXPECT_EQ(s.connect_timeout, Duration(500));
  EXPECT_EQ(s.command_timeout, Duration(200));
}

TEST(Sessions, CacheDefaultsAndKeys) {
  auto defaults = load("sessions: { redis: redis://127.0.0.1 }\n");
  ASSERT_TRUE(defaults.config);
  EXPECT_EQ(defaults.config->sessions->cache_max_entries, 10000u);
  EXPECT_EQ(defaults.config->sessions->cache_max_bytes, 16u * 1024 * 1024);
  auto set = load("sessions:\n  redis: redis://127.0.0.1\n  cache: { max_entries: 0, max_bytes: 1MiB }\n");
  ASSERT_TRUE(set.config) << ::testing::PrintToString(lines_of(set));
  EXPECT_EQ(set.config->sessions->cache_max_entries, 0u);
  EXPECT_EQ(set.config->sessions->cache_max_bytes, 1024u * 1024);
}

TEST(Sessions, BadCacheValuesAreReportedWithTheirPlace) {
  EXPECT_EQ(lines_of(load(R"(sessions:
  redis: redis://127.0.0.1
  cache:
    max_entries: -1
    max_bytes: 1KiB
    max_entrie: 3
)")),
            (std::vector<std::string>{
                "c.yaml:6:18: sessions.cache.max_entries: expected a whole number, got '-1'",
                "c.yaml:7:16: sessions.cache.max_bytes: expected a size from 64KiB to 64GiB",
                "c.yaml:8:5: sessions.cache.max_entrie: unknown key; did you mean 'max_entries'?",
            }));
  EXPECT_EQ(lines_of(load("sessions:\n  redis: redis://127.0.0.1\n  cache: { max_entries: 20000000 }\n")),
            (std::vector<std::string>{"c.yaml:5:25: sessions.cache.max_entries: expected at most "
                                      "10000000 (0 turns the cache off)"}));
}

TEST(Sessions, RedisIsRequired) {
  EXPECT_EQ(
      lines_of(load("sessions:\n  ttl: 1m\n")),
      (std::vector<std::string>{"c.yaml:4:3: sessions: missing key 'redis' (the store's URL, e.g. "
                                "redis://127.0.0.1:6379/0)"}));
}

TEST(Sessions, BadValuesAreEachReportedWithTheirPlace) {
  EXPECT_EQ(lines_of(load(R"(sessions:
  store: memcached
  redis: tcp://h
  cookie: "a b"
  ttl: 30
  header: "X Session"
  on_store_down: fail_opn
  timeouts: { connect: 0ms, comand: 1s }
)")),
            (std::vector<std::string>{
                "c.yaml:4:10: sessions.store: unknown store 'memcached' (expected redis)",
                "c.yaml:5:10: sessions.redis: not a Redis URL: expected a URL starting with "
                "redis:// (or rediss:// for TLS)",
                "c.yaml:6:11: sessions.cookie: not a cookie name: 'a b' (letters, digits and "
                "!#$%&'*+-.^_`|~)",
                "c.yaml:7:8: sessions.ttl: '30' has no unit; write 30s or 30ms",
                "c.yaml:8:11: sessions.header: not a header name: 'X Session' (letters, digits and "
                "!#$%&'*+-.^_`|~)",
                "c.yaml:9:18: sessions.on_store_down: unknown value 'fail_opn'; did you mean "
                "'fail_open'?",
                "c.yaml:10:24: sessions.timeouts.connect: must be more than 0",
                "c.yaml:10:29: sessions.timeouts.comand: unknown key; did you mean 'command'?",
            }));
}

TEST(Sessions, TlsWithACaFileRelativeToTheConfig) {
  auto result = load_string(
      "listen: 127.0.0.1:8080\nupstreams: [127.0.0.1:3000]\nsessions:\n  tls: { ca: certs/ca.pem "
      "}\n"
      "  redis: \"rediss://cache:6380\"\n",
      "/etc/corral/c.yaml");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  const RedisTarget& t = result.config->sessions->redis;
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.tls_ca, "/etc/corral/certs/ca.pem");
  EXPECT_FALSE(t.tls_insecure_skip_verify);
  auto skip = load("sessions: { redis: \"rediss://h\", tls: { insecure_skip_verify: true } }\n");
  ASSERT_TRUE(skip.config) << ::testing::PrintToString(lines_of(skip));
  EXPECT_TRUE(skip.config->sessions->redis.tls_insecure_skip_verify);
  EXPECT_TRUE(skip.config->sessions->redis.tls_ca.empty());
}

TEST(Sessions, TlsKeysOnlyWithRediss) {
  EXPECT_EQ(lines_of(load("sessions: { redis: \"redis://h\", tls: { ca: ca.pem } }\n")),
            (std::vector<std::string>{
                "c.yaml:3:38: sessions.tls: only for a rediss:// URL (redis:// is plain TCP)"}));
  EXPECT_EQ(
      lines_of(load("sessions: { redis: \"rediss://h\", tls: { insecure_skip_verify: yes } }\n")),
      (std::vector<std::string>{
          "c.yaml:3:63: sessions.tls.insecure_skip_verify: expected true or false, got 'yes'"}));
}

TEST(Sessions, ShortTtlAndReservedHeader) {
  EXPECT_EQ(lines_of(load(
                "sessions: { redis: \"redis://h\", ttl: 500ms, header: X-Corral-Session-Set }\n")),
            (std::vector<std::string>{
                "c.yaml:3:38: sessions.ttl: must be at least 1s",
                "c.yaml:3:53: sessions.header: 'X-Corral-Session-Set' is the name the app answers "
                "with; pick another",
            }));
}

TEST(Sessions, UrlFromEnvironment) {
  ::setenv("CORRAL_TEST_REDIS", "redis://10.1.2.3:7000/4", 1);
  auto result = load("sessions: { redis: \"${CORRAL_TEST_REDIS}\" }\n");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  EXPECT_EQ(result.config->sessions->redis.host, "10.1.2.3");
  EXPECT_EQ(result.config->sessions->redis.db, 4u);
}

}  // namespace
TEST(Sessions, SecureIsAutoTrueOrFalse) {
  auto result = load("sessions:\n  redis: redis://127.0.0.1:6379/0\n");
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->sessions->secure, CookieSecure::automatic);
  result = load("sessions:\n  redis: redis://127.0.0.1:6379/0\n  secure: true\n");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  EXPECT_EQ(result.config->sessions->secure, CookieSecure::always);
  result = load("sessions:\n  redis: redis://127.0.0.1:6379/0\n  secure: false\n");
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->sessions->secure, CookieSecure::never);
  result = load("sessions:\n  redis: redis://127.0.0.1:6379/0\n  secure: sometimes\n");
  ASSERT_FALSE(result.config);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].to_string(),
            "c.yaml:5:11: sessions.secure: expected auto, true or false, got 'sometimes'");
}

}  // namespace corral::config
