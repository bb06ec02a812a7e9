// Behind other proxies (trusted_proxies), end to end with the real
// binary: hash mode keys on the client address a trusted proxy forwards in X-Forwarded-For, and
// insert mode marks corral_affinity Secure when a trusted proxy says the client spoke https.
// The tests' connections come from 127.0.0.1, so that address plays the trusted proxy.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The backend that answered a GET / with these headers.
std::string backend_for(HttpClient& client, const Headers& headers) {
  auto res = client.get("/", headers);
  EXPECT_EQ(res.result_int(), 200) << res.body();
  return std::string(res["X-Backend"]);
}

// Clients as a proxy in front of corral would forward them.
std::vector<std::string> client_addresses() {
  std::vector<std::string> out;
  for (int i = 1; i <= 16; ++i) out.push_back("198.51.100." + std::to_string(i));
  out.push_back("2001:db8::7");
  return out;
}

struct HashRun {
  std::map<std::string, std::string> backend_of;  // client address -> backend
  bool consistent = true;
};

// Sends every client address five times (a new connection each round: nothing is decided per
// connection) and records where each went.
HashRun run_hash(const std::string& sticky) {
  Backend a("a"), b("b"), c("c");
  CorralConfig cfg;
  cfg.add(a);
  cfg.add(b);
  cfg.add(c);
  cfg.balance = "sticky";
  cfg.extra = sticky;
  Corral corral(cfg);
  HashRun run;
  for (int round = 0; round < 5; ++round) {
    HttpClient client(corral.port());
    for (const std::string& ip : client_addresses()) {
      // The client's own guess in front, the trusted proxy's entry for it at the end.
      Headers headers{{"X-Forwarded-For", round % 2 ? "203.0.113.66, " + ip : ip}};
      const std::string got = backend_for(client, headers);
      auto [it, first] = run.backend_of.emplace(ip, got);
      if (!first && it->second != got) {
        ADD_FAILURE() << ip << " went to " << it->second << ", then to " << got;
        run.consistent = false;
      }
    }
  }
  return run;
}

std::set<std::string> backends_used(const HashRun& run) {
  std::set<std::string> used;
  for (const auto& [ip, backend] : run.backend_of) used.insert(backend);
  return used;
}

TEST(StickyProxies, HashKeysOnTheForwardedClientOfATrustedProxy) {
  HashRun run = run_hash(
      "sticky: { mode: hash, client_ip: true }\ntrusted_proxies: [127.0.0.1, \"::1\"]\n");
  EXPECT_TRUE(run.consistent);
  EXPECT_GT(backends_used(run).size(), 1u)
      << "17 forwarded client addresses all hashed onto one backend: X-Forwarded-For unread";
}

TEST(StickyProxies, WithoutTrustedProxiesEveryRequestFollowsThePeer) {
  HashRun run = run_hash("sticky: { mode: hash, client_ip: true }\n");
  EXPECT_TRUE(run.consistent);
  EXPECT_EQ(backends_used(run).size(), 1u) << "a client chose its key with X-Forwarded-For";
}

TEST(StickyProxies, AnUntrustedPeerCannotChooseItsKey) {
  HashRun run =
      run_hash("sticky: { mode: hash, client_ip: true }\ntrusted_proxies: [10.0.0.0/8]\n");
  EXPECT_TRUE(run.consistent);
  EXPECT_EQ(backends_used(run).size(), 1u) << "X-Forwarded-For believed from 127.0.0.1";
}

// An insert-mode sticky: section with `more` keys after the signing key, then `after` lines.
std::string insert_sticky(std::string_view more, std::string_view after = {}) {
  std::string out = "sticky: { mode: insert, key: \"0123456789abcdef0123456789abcdef\"";
  if (!more.empty()) out += ", " + std::string(more);
  out += " }\n";
  out += after;
  return out;
}

// The Set-Cookie of corral_affinity that a fresh session (no cookie) gets.
std::string affinity_set_cookie(std::uint16_t port, const Headers& headers) {
  HttpClient client(port);
  auto res = client.get("/", headers);
  EXPECT_EQ(res.result_int(), 200) << res.body();
  for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
    const std::string_view value = it->value();
    if (value.starts_with("corral_affinity=")) return std::string(value);
  }
  ADD_FAILURE() << "no corral_affinity cookie issued";
  return {};
}

bool has_secure(const std::string& set_cookie) {
  return set_cookie.find("; Secure") != std::string::npos;
}

TEST(StickyProxies, InsertCookieIsSecureWhenATrustedProxySaysHttps) {
  Backend a("a"), b("b");
  CorralConfig cfg;
  cfg.add(a);
  cfg.add(b);
  cfg.balance = "sticky";
  cfg.extra = insert_sticky("", "trusted_proxies: [127.0.0.1]\n");
  Corral corral(cfg);
  const std::string https = affinity_set_cookie(corral.port(), {{"X-Forwarded-Proto", "https"}});
  EXPECT_TRUE(has_secure(https)) << https;
  EXPECT_NE(https.find("HttpOnly"), std::string::npos) << https;
  const std::string upper = affinity_set_cookie(corral.port(), {{"X-Forwarded-Proto", "HTTPS"}});
  EXPECT_TRUE(has_secure(upper)) << upper;
  const std::string http = affinity_set_cookie(corral.port(), {{"X-Forwarded-Proto", "http"}});
  EXPECT_FALSE(has_secure(http)) << http;
  const std::string none = affinity_set_cookie(corral.port(), {});
  EXPECT_FALSE(has_secure(none)) << none;
}

TEST(StickyProxies, InsertCookieIgnoresHttpsFromAnUntrustedPeerUnlessForced) {
  Backend a("a"), b("b");
  CorralConfig cfg;
  cfg.add(a);
  cfg.add(b);
  cfg.balance = "sticky";
  cfg.extra = insert_sticky("", "trusted_proxies: [10.0.0.0/8]\n");
  {
    Corral corral(cfg);
    const std::string got = affinity_set_cookie(corral.port(), {{"X-Forwarded-Proto", "https"}});
    EXPECT_FALSE(has_secure(got)) << got;
  }
  cfg.extra = insert_sticky("secure: true");
  Corral forced(cfg);
  const std::string got = affinity_set_cookie(forced.port(), {});
  EXPECT_TRUE(has_secure(got)) << got;
}

TEST(TrustedProxies, TheAppIsToldHttpsOnlyWhenATrustedProxySaysSo) {
  Backend a("a");
  auto proto_seen = [&](const std::string& extra, const Headers& headers) {
    CorralConfig cfg;
    cfg.add(a);
    cfg.extra = extra;
    Corral corral(cfg);
    HttpClient client(corral.port());
    auto res = client.get("/headers", headers);
    EXPECT_EQ(res.result_int(), 200) << res.body();
    const auto seen = parse_json_object(res.body());
    return std::string(seen.at("headers").as_object().at("x-forwarded-proto").as_string());
  };
  const Headers https{{"X-Forwarded-Proto", "https"}};
  EXPECT_EQ(proto_seen("trusted_proxies: [127.0.0.1, \"::1\"]\n", https), "https");
  EXPECT_EQ(proto_seen("trusted_proxies: [127.0.0.1]\n", {{"X-Forwarded-Proto", "http"}}),
            "http");
  EXPECT_EQ(proto_seen("trusted_proxies: [127.0.0.1]\n", {}), "http");
  // From a peer that is not trusted, or with no list, the client's word is replaced.
  EXPECT_EQ(proto_seen("trusted_proxies: [10.0.0.0/8]\n", https), "http");
  EXPECT_EQ(proto_seen("", https), "http");
}

}  // namespace
}  // namespace corral::test
