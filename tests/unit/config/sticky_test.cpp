// The sticky: section and balance: sticky, as loaded and validated, and the trusted_proxies
// that sticky keys and the Secure flag read.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "config/load.hpp"
#include "config/validate.hpp"

namespace corral::config {
namespace {

std::vector<std::string> lines_of(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const Problem& problem : result.problems) lines.push_back(problem.to_string());
  return lines;
}

std::string with(std::string_view tail) {
  return "listen: 127.0.0.1:8080\nupstreams: [127.0.0.1:3000, 127.0.0.1:3001]\n" +
         std::string(tail);
}

Config loads(std::string_view tail) {
  LoadResult result = load_string(with(tail), "c.yaml");
  EXPECT_TRUE(result.problems.empty()) << ::testing::PrintToString(lines_of(result));
  return result.config.value_or(Config{});
}

// The one problem loading gives, as text.
std::string only_problem(std::string_view tail) {
  LoadResult result = load_string(with(tail), "c.yaml");
  EXPECT_FALSE(result.config);
  EXPECT_EQ(result.problems.size(), 1u) << ::testing::PrintToString(lines_of(result));
  return result.problems.empty() ? std::string() : result.problems.front().to_string();
}

TEST(StickyConfig, FullLearnSection) {
  Config c = loads(R"(balance: sticky
sticky:
  cookie: connect.sid
  mode: learn
  fallback: round_robin
  on_unavailable: hold
  hold_timeout: 3s
  idle_ttl: 10m
  max_entries: 5000
)");
  EXPECT_EQ(c.balance, Balance::sticky);
  ASSERT_TRUE(c.sticky);
  EXPECT_EQ(c.sticky->cookie, "connect.sid");
  EXPECT_EQ(c.sticky->mode, StickyMode::learn);
  EXPECT_EQ(c.sticky->fallback, Balance::round_robin);
  EXPECT_EQ(c.sticky->on_unavailable, OnUnavailable::hold);
  EXPECT_EQ(c.sticky->hold_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c.sticky->idle_ttl, std::chrono::minutes(10));
  EXPECT_EQ(c.sticky->max_entries, 5000u);
  EXPECT_EQ(c.sticky->key_source, StickyKeySource::cookie);
}

TEST(StickyConfig, Defaults) {
  Config c = loads("balance: sticky\nsticky: { cookie: sid }\n");
  ASSERT_TRUE(c.sticky);
  EXPECT_EQ(c.sticky->mode, StickyMode::learn);
  EXPECT_EQ(c.sticky->fallback, Balance::least_loaded);
  EXPECT_EQ(c.sticky->on_unavailable, OnUnavailable::failover);
  EXPECT_EQ(c.sticky->hold_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.sticky->idle_ttl, std::chrono::minutes(30));
  EXPECT_EQ(c.sticky->max_entries, 1'000'000u);
  EXPECT_EQ(c.sticky->max_age, std::chrono::hours(24));
  EXPECT_EQ(c.sticky->balance_factor, 0u);
}

TEST(StickyConfig, InsertWithKeyAndKeyEnv) {
  Config c =
      loads("balance: sticky\nsticky: { mode: insert, key: 0123456789abcdef0123, max_age: 1h }\n");
  EXPECT_EQ(c.sticky->mode, StickyMode::insert);
  EXPECT_EQ(insert_key(*c.sticky), "0123456789abcdef0123");
  EXPECT_EQ(c.sticky->max_age, std::chrono::hours(1));

  ::setenv("CORRAL_TEST_STICKY_KEY", "a-key-of-at-least-16-bytes", 1);
  c = loads("balance: sticky\nsticky: { mode: insert, key_env: CORRAL_TEST_STICKY_KEY }\n");
  EXPECT_EQ(insert_key(*c.sticky), "a-key-of-at-least-16-bytes");
  ::setenv("CORRAL_TEST_STICKY_KEY", "short", 1);
  EXPECT_EQ(
      only_problem("balance: sticky\nsticky: { mode: insert, key_env: CORRAL_TEST_STICKY_KEY }\n"),
      "c.yaml:4:34: sticky.key_env: the variable CORRAL_TEST_STICKY_KEY holds fewer than 16 "
      "bytes (32 random bytes are best)");
  ::unsetenv("CORRAL_TEST_STICKY_KEY");
  EXPECT_EQ(
      only_problem("balance: sticky\nsticky: { mode: insert, key_env: CORRAL_TEST_STICKY_KEY }\n"),
      "c.yaml:4:34: sticky.key_env: the variable CORRAL_TEST_STICKY_KEY is not set");
}

TEST(StickyConfig, InsertWithoutAKeyUsesTheMastersRandomKey) {
  ::unsetenv(generated_insert_key_env);
  Config c = loads("balance: sticky\nsticky: { mode: insert }\n");
  EXPECT_EQ(insert_key(*c.sticky), std::nullopt);  // until the master made one
  ::setenv(generated_insert_key_env, "0123456789abcdef0123456789abcdef", 1);
  EXPECT_EQ(insert_key(*c.sticky), "0123456789abcdef0123456789abcdef");
  ::unsetenv(generated_insert_key_env);
}

TEST(StickyConfig, HashKeySources) {
  Config c = loads(
      "balance: sticky\nsticky: { mode: hash, header: Authorization, balance_factor: 125 }\n");
  EXPECT_EQ(c.sticky->key_source, StickyKeySource::header);
  EXPECT_EQ(c.sticky->key_name, "Authorization");
  EXPECT_EQ(c.sticky->balance_factor, 125u);
  c = loads("balance: sticky\nsticky: { mode: hash, query: sid }\n");
  EXPECT_EQ(c.sticky->key_source, StickyKeySource::query);
  EXPECT_EQ(c.sticky->key_name, "sid");
  c = loads("balance: sticky\nsticky: { mode: hash, client_ip: true }\n");
  EXPECT_EQ(c.sticky->key_source, StickyKeySource::client_ip);
  c = loads("balance: sticky\nsticky: { mode: hash, cookie: sid }\n");
  EXPECT_EQ(c.sticky->key_source, StickyKeySource::cookie);
}

TEST(StickyConfig, StickyWithoutSectionIsAnError) {
  EXPECT_EQ(only_problem("balance: sticky\n"),
            "c.yaml:3:10: balance: sticky needs a sticky: section, at least { cookie: "
            "NAME } (the app's session cookie) or { mode: insert, key_env: VAR }");
}

TEST(StickyConfig, SectionWithoutStickyBalanceIsAnError) {
  EXPECT_EQ(only_problem("balance: least_loaded\nsticky: { cookie: sid }\n"),
            "c.yaml:4:9: sticky: a sticky: section needs balance: sticky (or remove the section)");
  EXPECT_EQ(only_problem("sticky: { cookie: sid }\n"),
            "c.yaml:3:9: sticky: a sticky: section needs balance: sticky (or remove the section)");
}

TEST(StickyConfig, ValueErrorsWithPositions) {
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  mode: lern\n"),
            "c.yaml:6:9: sticky.mode: unknown value 'lern'; did you mean 'learn'?");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  on_unavailable: wait\n"),
            "c.yaml:6:19: sticky.on_unavailable: unknown value 'wait' (expected one of failover, "
            "hold, strict)");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  fallback: sticky\n"),
            "c.yaml:6:13: sticky.fallback: unknown value 'sticky' (expected one of round_robin, "
            "least_loaded)");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  hold_timeout: 2\n"),
            "c.yaml:6:17: sticky.hold_timeout: '2' has no unit; write 2s or 2ms");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  cokie: x\n"),
            "c.yaml:6:3: sticky.cokie: unknown key; did you mean 'cookie'?");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  max_entries: 0\n"),
            "c.yaml:6:16: sticky.max_entries: must be at least 1");
  EXPECT_EQ(
      only_problem("balance: sticky\nsticky:\n  mode: hash\n  cookie: sid\n  balance_factor: 50\n"),
      "c.yaml:7:19: sticky.balance_factor: must be 0 (off) or a percentage from 100 to 1000, got "
      "50");
}

TEST(StickyConfig, RulesBetweenKeys) {
  EXPECT_EQ(
      only_problem("balance: sticky\nsticky: { mode: learn }\n"),
      "c.yaml:4:9: sticky.cookie: the app's session cookie is required, e.g. cookie: connect.sid");
  EXPECT_EQ(only_problem("balance: sticky\nsticky: { cookie: sid, header: Authorization }\n"),
            "c.yaml:4:32: sticky.header: header, query and client_ip keys need mode: hash (learn "
            "mode learns from the app's Set-Cookie, insert mode uses its own cookie)");
  EXPECT_EQ(only_problem("balance: sticky\nsticky: { mode: hash, header: A, query: b }\n"),
            "c.yaml:4:41: sticky.query: only one of header, query and client_ip may be given");
  EXPECT_EQ(only_problem("balance: sticky\nsticky: { cookie: \"a b\" }\n"),
            "c.yaml:4:19: sticky.cookie: not a cookie name: 'a b'");
  EXPECT_EQ(only_problem("balance: sticky\nsticky: { mode: insert, key: short }\n"),
            "c.yaml:4:30: sticky.key: at least 16 bytes are needed (32 random bytes are best)");
  EXPECT_EQ(
      only_problem(
          "balance: sticky\nsticky: { cookie: sid, on_unavailable: hold, hold_timeout: 0s }\n"),
      "c.yaml:4:60: sticky.hold_timeout: must be more than 0");
}

TEST(StickyConfig, RedisStore) {
  Config c = loads(R"(balance: sticky
sticky:
  cookie: connect.sid
  store: redis
  redis: redis://:pw@127.0.0.1:6390/2
  prefix: "shop:pins:"
  timeouts: { connect: 1s, command: 50ms }
)");
  ASSERT_TRUE(c.sticky);
  EXPECT_EQ(c.sticky->store, StickyStore::redis);
  EXPECT_EQ(c.sticky->redis.host, "127.0.0.1");
  EXPECT_EQ(c.sticky->redis.port, 6390);
  EXPECT_EQ(c.sticky->redis.password, "pw");
  EXPECT_EQ(c.sticky->redis.db, 2u);
  EXPECT_EQ(c.sticky->store_prefix, "shop:pins:");
  EXPECT_EQ(c.sticky->connect_timeout, std::chrono::seconds(1));
  EXPECT_EQ(c.sticky->command_timeout, std::chrono::milliseconds(50));

  Config local = loads("balance: sticky\nsticky: { cookie: sid }\n");
  EXPECT_EQ(local.sticky->store, StickyStore::local);
  EXPECT_EQ(local.sticky->store_prefix, "corral:affinity:");

  Config tls = loads(
      "balance: sticky\nsticky:\n  cookie: sid\n  store: redis\n  tls: { ca: /etc/ca.pem }\n"
      "  redis: rediss://redis.internal:6380\n");
  EXPECT_TRUE(tls.sticky->redis.tls);
  EXPECT_EQ(tls.sticky->redis.tls_ca, "/etc/ca.pem");
}

TEST(StickyConfig, RedisStoreErrors) {
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  store: redis\n"),
            "c.yaml:6:10: sticky.store: store: redis needs sticky.redis, the server's URL (e.g. "
            "redis://127.0.0.1:6379/0)");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  redis: redis://h\n"),
            "c.yaml:6:10: sticky.redis: only with store: redis (the pins are kept in the proxy "
            "otherwise)");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  store: memcached\n"),
            "c.yaml:6:10: sticky.store: unknown value 'memcached' (expected one of local, redis)");
  EXPECT_EQ(
      only_problem("balance: sticky\nsticky:\n  cookie: sid\n  store: redis\n  redis: http://h\n"),
      "c.yaml:7:10: sticky.redis: not a Redis URL: expected a URL starting with redis:// (or "
      "rediss:// for TLS)");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  mode: hash\n  cookie: sid\n  store: redis\n"
                         "  redis: redis://h\n"),
            "c.yaml:7:10: sticky.store: store: redis keeps learned pins; hash mode keeps none (it "
            "is stateless and already shared by every instance)");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  store: redis\n"
                         "  redis: redis://h\n  prefix: \"\"\n"),
            "c.yaml:8:11: sticky.prefix: must not be empty (it keeps corral's keys apart from "
            "others)");
  EXPECT_EQ(only_problem("balance: sticky\nsticky:\n  cookie: sid\n  store: redis\n"
                         "  redis: redis://h\n  tls: { insecure_skip_verify: true }\n"),
            "c.yaml:8:8: sticky.tls: only for a rediss:// URL (redis:// is plain TCP)");
}

// With balance: sticky already given (the section's own tests).
Config loads_sticky(std::string_view tail) { return loads("balance: sticky\n" + std::string(tail)); }

std::vector<std::string> sticky_problems(std::string_view tail) {
  LoadResult result = load_string(with("balance: sticky\n" + std::string(tail)), "c.yaml");
  EXPECT_FALSE(result.config);
  return lines_of(result);
}

using Lines = std::vector<std::string>;

TEST(TrustedProxiesConfig, ListOfAddressesAndRanges) {
  Config c = loads("trusted_proxies: [127.0.0.1, 10.0.0.0/8, \"::1\", \"fd00::/8\"]\n");
  ASSERT_EQ(c.trusted_proxies.size(), 4u);
  EXPECT_EQ(c.trusted_proxies[0].text, "127.0.0.1");
  EXPECT_EQ(c.trusted_proxies[1].text, "10.0.0.0/8");
  EXPECT_EQ(c.trusted_proxies[2].text, "::1");
  EXPECT_EQ(c.trusted_proxies[3].text, "fd00::/8");
  EXPECT_TRUE(c.trusted_proxies[1].contains(*parse_ip("::ffff:10.1.2.3")));
  EXPECT_TRUE(loads("balance: round_robin\n").trusted_proxies.empty());
}

TEST(TrustedProxiesConfig, BlockListAndSingleAddress) {
  Config c = loads("trusted_proxies:\n  - 10.0.0.0/8\n  - 192.168.0.0/16\n");
  EXPECT_EQ(c.trusted_proxies.size(), 2u);
  c = loads("trusted_proxies: 127.0.0.1\n");
  ASSERT_EQ(c.trusted_proxies.size(), 1u);
  EXPECT_EQ(c.trusted_proxies[0].text, "127.0.0.1");
  EXPECT_TRUE(loads("trusted_proxies: []\n").trusted_proxies.empty());
  // With every sticky mode and key: the list also tells the app the client's scheme.
  c = loads_sticky("sticky: { cookie: sid }\ntrusted_proxies: [127.0.0.1]\n");
  EXPECT_EQ(c.trusted_proxies.size(), 1u);
  c = loads_sticky(
      "sticky: { mode: insert, key: a-key-of-at-least-16-bytes, secure: true }\n"
      "trusted_proxies: [10.0.0.0/8]\n");
  EXPECT_EQ(c.sticky->secure, CookieSecure::always);
}

TEST(TrustedProxiesConfig, BadEntriesNamedByIndexWithPosition) {
  auto problems = [](std::string_view tail) {
    LoadResult result = load_string(with(tail), "c.yaml");
    EXPECT_FALSE(result.config);
    return lines_of(result);
  };
  EXPECT_EQ(problems("trusted_proxies: [127.0.0.1, 10.0.0.0/33, example.com, \"::1/129\"]\n"),
            (Lines{"c.yaml:3:30: trusted_proxies[1]: not an address or CIDR range: "
                   "'10.0.0.0/33' (an IPv4 prefix is 0..32)",
                   "c.yaml:3:43: trusted_proxies[2]: not an address or CIDR range: "
                   "'example.com'",
                   "c.yaml:3:56: trusted_proxies[3]: not an address or CIDR range: "
                   "'::1/129' (an IPv6 prefix is 0..128)"}));
  EXPECT_EQ(problems("trusted_proxies:\n  - 10.0.0.0/8\n  - { a: b }\n"),
            (Lines{"c.yaml:5:5: trusted_proxies[1]: expected an address or CIDR range "
                   "such as 10.0.0.0/8, got a map"}));
  EXPECT_EQ(problems("trusted_proxies: { a: b }\n"),
            (Lines{"c.yaml:3:18: trusted_proxies: expected a list of addresses and CIDR "
                   "ranges, such as [127.0.0.1, 10.0.0.0/8], got a map"}));
  EXPECT_EQ(problems("trusted_proxys: [127.0.0.1]\n"),
            (Lines{"c.yaml:3:1: trusted_proxys: unknown key; did you mean 'trusted_proxies'?"}));
}

TEST(StickyProxiesConfig, UnknownKeysStillGetSuggestions) {
  EXPECT_EQ(sticky_problems("sticky: { mode: insert, key: a-key-of-at-least-16-bytes, secur: true }\n"),
            (Lines{"c.yaml:4:58: sticky.secur: unknown key; did you mean 'secure'?"}));
}

TEST(StickyProxiesConfig, SecureValues) {
  const std::string insert = "sticky: { mode: insert, key: a-key-of-at-least-16-bytes, secure: ";
  EXPECT_EQ(loads_sticky(insert + "auto }\n").sticky->secure, CookieSecure::automatic);
  EXPECT_EQ(loads_sticky(insert + "true }\n").sticky->secure, CookieSecure::always);
  EXPECT_EQ(loads_sticky(insert + "false }\n").sticky->secure, CookieSecure::never);
  EXPECT_EQ(sticky_problems(insert + "maybe }\n"),
            (Lines{"c.yaml:4:66: sticky.secure: expected auto, true or false, got 'maybe'"}));
}

TEST(StickyProxiesConfig, SecureOnlyInInsertMode) {
  EXPECT_EQ(sticky_problems("sticky: { cookie: sid, secure: true }\n"),
            (Lines{"c.yaml:4:32: sticky.secure: only insert mode issues a cookie "
                   "(corral_affinity) to mark Secure"}));
  // auto is the default, so it may be written anywhere.
  loads_sticky("sticky: { cookie: sid, secure: auto }\n");
}

}  // namespace
}  // namespace corral::config
