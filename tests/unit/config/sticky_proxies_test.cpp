// sticky.trusted_proxies and sticky.secure, as loaded and validated.
#include <gtest/gtest.h>

#include "config/load.hpp"

namespace corral::config {
namespace {

std::vector<std::string> lines_of(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const Problem& problem : result.problems) lines.push_back(problem.to_string());
  return lines;
}

std::string with(std::string_view tail) {
  return "listen: 127.0.0.1:8080\nupstreams: [127.0.0.1:3000, 127.0.0.1:3001]\nbalance: sticky\n" +
         std::string(tail);
}

Config loads(std::string_view tail) {
  LoadResult result = load_string(with(tail), "c.yaml");
  EXPECT_TRUE(result.problems.empty()) << ::testing::PrintToString(lines_of(result));
  return result.config.value_or(Config{});
}

std::vector<std::string> problems(std::string_view tail) {
  LoadResult result = load_string(with(tail), "c.yaml");
  EXPECT_FALSE(result.config);
  return lines_of(result);
}

using Lines = std::vector<std::string>;

TEST(StickyProxiesConfig, ListOfAddressesAndRanges) {
  Config c = loads(R"(sticky:
  mode: hash
  client_ip: true
  trusted_proxies: [127.0.0.1, 10.0.0.0/8, "::1", "fd00::/8"]
)");
  ASSERT_EQ(c.sticky->trusted_proxies.size(), 4u);
  EXPECT_EQ(c.sticky->trusted_proxies[0].text, "127.0.0.1");
  EXPECT_EQ(c.sticky->trusted_proxies[1].text, "10.0.0.0/8");
  EXPECT_EQ(c.sticky->trusted_proxies[2].text, "::1");
  EXPECT_EQ(c.sticky->trusted_proxies[3].text, "fd00::/8");
  EXPECT_TRUE(c.sticky->trusted_proxies[1].contains(*parse_ip("::ffff:10.1.2.3")));
  EXPECT_EQ(c.sticky->secure, CookieSecure::automatic);
}

TEST(StickyProxiesConfig, BlockListAndSingleAddress) {
  Config c = loads(R"(sticky:
  mode: hash
  client_ip: true
  trusted_proxies:
    - 10.0.0.0/8
    - 192.168.0.0/16
)");
  EXPECT_EQ(c.sticky->trusted_proxies.size(), 2u);
  c = loads("sticky: { mode: hash, client_ip: true, trusted_proxies: 127.0.0.1 }\n");
  ASSERT_EQ(c.sticky->trusted_proxies.size(), 1u);
  EXPECT_EQ(c.sticky->trusted_proxies[0].text, "127.0.0.1");
  c = loads("sticky: { mode: hash, client_ip: true, trusted_proxies: [] }\n");
  EXPECT_TRUE(c.sticky->trusted_proxies.empty());
}

TEST(StickyProxiesConfig, BadEntriesNamedByIndexWithPosition) {
  EXPECT_EQ(problems(R"(sticky:
  mode: hash
  client_ip: true
  trusted_proxies: [127.0.0.1, 10.0.0.0/33, example.com, "::1/129"]
)"),
            (Lines{"c.yaml:7:32: sticky.trusted_proxies[1]: not an address or CIDR range: "
                   "'10.0.0.0/33' (an IPv4 prefix is 0..32)",
                   "c.yaml:7:45: sticky.trusted_proxies[2]: not an address or CIDR range: "
                   "'example.com'",
                   "c.yaml:7:58: sticky.trusted_proxies[3]: not an address or CIDR range: "
                   "'::1/129' (an IPv6 prefix is 0..128)"}));
  EXPECT_EQ(problems("sticky:\n  mode: hash\n  client_ip: true\n  trusted_proxies:\n"
                     "    - 10.0.0.0/8\n    - { a: b }\n"),
            (Lines{"c.yaml:9:7: sticky.trusted_proxies[1]: expected an address or CIDR range "
                   "such as 10.0.0.0/8, got a map"}));
  EXPECT_EQ(problems("sticky:\n  mode: hash\n  client_ip: true\n  trusted_proxies: { a: b }\n"),
            (Lines{"c.yaml:7:20: sticky.trusted_proxies: expected a list of addresses and CIDR "
                   "ranges, such as [127.0.0.1, 10.0.0.0/8], got a map"}));
}

TEST(StickyProxiesConfig, UnknownKeysStillGetSuggestions) {
  EXPECT_EQ(problems("sticky: { mode: hash, client_ip: true, trusted_proxys: [127.0.0.1] }\n"),
            (Lines{"c.yaml:4:40: sticky.trusted_proxys: unknown key; did you mean "
                   "'trusted_proxies'?"}));
  EXPECT_EQ(problems("sticky: { mode: insert, key: a-key-of-at-least-16-bytes, secur: true }\n"),
            (Lines{"c.yaml:4:58: sticky.secur: unknown key; did you mean 'secure'?"}));
}

TEST(StickyProxiesConfig, SecureValues) {
  const std::string insert = "sticky: { mode: insert, key: a-key-of-at-least-16-bytes, secure: ";
  EXPECT_EQ(loads(insert + "auto }\n").sticky->secure, CookieSecure::automatic);
  EXPECT_EQ(loads(insert + "true }\n").sticky->secure, CookieSecure::always);
  EXPECT_EQ(loads(insert + "false }\n").sticky->secure, CookieSecure::never);
  EXPECT_EQ(problems(insert + "maybe }\n"),
            (Lines{"c.yaml:4:66: sticky.secure: expected auto, true or false, got 'maybe'"}));
}

TEST(StickyProxiesConfig, InsertModeWithTrustedProxies) {
  Config c = loads(
      "sticky: { mode: insert, key: a-key-of-at-least-16-bytes, trusted_proxies: [10.0.0.0/8] "
      "}\n");
  EXPECT_EQ(c.sticky->trusted_proxies.size(), 1u);
  EXPECT_EQ(
      problems("sticky: { mode: insert, key: a-key-of-at-least-16-bytes, secure: true, "
               "trusted_proxies: [10.0.0.0/8] }\n"),
      (Lines{"c.yaml:4:89: sticky.trusted_proxies: unused: with secure: true or false nothing "
             "is read from the proxies (secure: auto reads their X-Forwarded-Proto)"}));
}

TEST(StickyProxiesConfig, TrustedProxiesNeedAClientIpKeyOrInsertMode) {
  const std::string unused =
      "sticky.trusted_proxies: unused: only read for a client_ip key (mode: hash, client_ip: "
      "true) or for corral_affinity's Secure flag (mode: insert)";
  EXPECT_EQ(problems("sticky: { cookie: sid, trusted_proxies: [127.0.0.1] }\n"),
            (Lines{"c.yaml:4:41: " + unused}));
  EXPECT_EQ(problems("sticky: { mode: hash, cookie: sid, trusted_proxies: [127.0.0.1] }\n"),
            (Lines{"c.yaml:4:53: " + unused}));
  EXPECT_EQ(
      problems("sticky: { mode: hash, header: Authorization, trusted_proxies: [127.0.0.1] }\n"),
      (Lines{"c.yaml:4:63: " + unused}));
}

TEST(StickyProxiesConfig, SecureOnlyInInsertMode) {
  EXPECT_EQ(problems("sticky: { cookie: sid, secure: true }\n"),
            (Lines{"c.yaml:4:32: sticky.secure: only insert mode issues a cookie "
                   "(corral_affinity) to mark Secure"}));
  // auto is the default, so it may be written anywhere.
  loads("sticky: { cookie: sid, secure: auto }\n");
}

}  // namespace
}  // namespace corral::config
