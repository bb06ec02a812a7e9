// The request header as the upstream sees it: X-Forwarded-*, X-Request-Id, hop-by-hop and
// internal headers removed. Also IPv6 listeners.
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

// The headers object the backend's /headers route saw (names lower-cased by Node).
boost::json::object seen_headers(const http::response<http::string_body>& res) {
  EXPECT_EQ(res.result_int(), 200) << res.body();
  auto obj = parse_json_object(res.body());
  return obj.at("headers").as_object();
}

std::string value_of(const boost::json::object& headers, const char* name) {
  auto it = headers.find(name);
  if (it == headers.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

TEST(HeaderRewrite, ForwardedHeadersAreSet) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto h = seen_headers(client.get("/headers", {{"Host", "app.example:8443"}}));
  EXPECT_EQ(value_of(h, "x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(value_of(h, "x-forwarded-proto"), "http");
  EXPECT_EQ(value_of(h, "x-forwarded-host"), "app.example:8443");
  EXPECT_FALSE(value_of(h, "x-request-id").empty()) << "corral should add a request id";
  EXPECT_EQ(value_of(h, "host"), "app.example:8443") << "Host is passed on unchanged";
}

TEST(HeaderRewrite, ForwardedForIsAppendedAndRequestIdKept) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto h = seen_headers(client.get(
      "/headers", {{"X-Forwarded-For", "203.0.113.7"}, {"X-Request-Id", "req-abc-123"}}));
  EXPECT_EQ(value_of(h, "x-forwarded-for"), "203.0.113.7, 127.0.0.1");
  EXPECT_EQ(value_of(h, "x-request-id"), "req-abc-123");
}

TEST(HeaderRewrite, RequestIdsDifferBetweenRequests) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto first = value_of(seen_headers(client.get("/headers")), "x-request-id");
  auto second = value_of(seen_headers(client.get("/headers")), "x-request-id");
  EXPECT_FALSE(first.empty());
  EXPECT_NE(first, second);
  // <process, 8 hex><thread, 2 hex><request number, 10 hex>: the same process and thread here.
  const std::regex id("[0-9a-f]{20}");
  EXPECT_TRUE(std::regex_match(first, id)) << first;
  EXPECT_TRUE(std::regex_match(second, id)) << second;
  EXPECT_EQ(first.substr(0, 10), second.substr(0, 10));
  EXPECT_EQ(std::stoull(second.substr(10), nullptr, 16),
            std::stoull(first.substr(10), nullptr, 16) + 1);
}

TEST(HeaderRewrite, HopByHopAndInternalHeadersAreRemoved) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto h = seen_headers(client.get("/headers", {{"Connection", "keep-alive, X-Hop-Named"},
                                                {"X-Hop-Named", "drop me"},
                                                {"Keep-Alive", "timeout=5"},
                                                {"TE", "trailers"},
                                                {"Trailer", "X-Checksum"},
                                                {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                                                {"X-Corral-Foo", "spoofed"},
                                                {"x-corral-upstream", "spoofed"},
                                                {"X-Kept", "kept"}}));
  EXPECT_EQ(value_of(h, "x-hop-named"), "") << "a header named by Connection is hop-by-hop";
  EXPECT_EQ(value_of(h, "keep-alive"), "");
  EXPECT_EQ(value_of(h, "te"), "");
  EXPECT_EQ(value_of(h, "trailer"), "");
  EXPECT_EQ(value_of(h, "proxy-authorization"), "");
  EXPECT_EQ(value_of(h, "x-corral-foo"), "") << "client-sent X-Corral-* must not pass";
  EXPECT_EQ(value_of(h, "x-corral-upstream"), "");
  EXPECT_EQ(value_of(h, "x-kept"), "kept");
  // Whatever Connection header corral sends upstream, it no longer names the client's header.
  EXPECT_EQ(lower(value_of(h, "connection")).find("x-hop-named"), std::string::npos);
}

TEST(HeaderRewrite, EndToEndHeadersAndMethodPassUnchanged) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  http::request<http::string_body> req{http::verb::put, "/headers?x=1&y=%20z", 11};
  req.set(http::field::authorization, "Bearer token");
  req.set(http::field::cookie, "a=1; b=2");
  req.insert("X-Multi", "one");
  req.insert("X-Multi", "two");
  req.body() = "ignored";
  auto res = client.request(std::move(req));
  auto obj = parse_json_object(res.body());
  EXPECT_EQ(obj.at("method").as_string(), "PUT");
  EXPECT_EQ(obj.at("url").as_string(), "/headers?x=1&y=%20z");
  auto h = obj.at("headers").as_object();
  EXPECT_EQ(value_of(h, "authorization"), "Bearer token");
  EXPECT_EQ(value_of(h, "cookie"), "a=1; b=2");
  EXPECT_EQ(value_of(h, "x-multi"), "one, two");
}

TEST(HeaderRewrite, Ipv6ListenerServesAndForwardsTheClientAddress) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no ::1 on this machine";
  Backend be("a");
  CorralConfig cfg;
  cfg.listen = {"[::1]:0"};
  cfg.add(be);
  Corral corral(cfg);

  ASSERT_EQ(corral.hosts().at(0), "::1");
  HttpClient client(corral.port(), 5s, "::1");
  EXPECT_EQ(client.get("/").body(), "a");
  auto h = seen_headers(client.get("/headers"));
  EXPECT_EQ(value_of(h, "x-forwarded-for"), "::1");
}

TEST(HeaderRewrite, TwoListenersBothServe) {
  Backend be("a");
  CorralConfig cfg;
  cfg.listen = {"127.0.0.1:0", "127.0.0.1:0"};
  cfg.add(be);
  Corral corral(cfg);

  ASSERT_EQ(corral.ports().size(), 2u);
  EXPECT_NE(corral.ports()[0], corral.ports()[1]);
  for (auto port : corral.ports()) EXPECT_EQ(http_get(port, "/").body(), "a");
}

}  // namespace
}  // namespace corral::test
