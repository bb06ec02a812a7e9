// Ejection and re-admission of upstreams: an upstream that comes back is used again, and
// /readyz follows whether any upstream is usable.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

// GETs / until `name` answers or the timeout passes; returns whether it did.
bool wait_for_backend(std::uint16_t port, const std::string& name, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpClient c(port, 2s);
    beast::error_code ec;
    http::request<http::string_body> req{http::verb::get, "/", 11};
    auto res = c.request(std::move(req), ec);
    if (!ec && res.body() == name) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

unsigned wait_readyz(Corral& corral, unsigned want, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  unsigned got = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    got = corral.admin_get("/readyz").result_int();
    if (got == want) break;
    std::this_thread::sleep_for(20ms);
  }
  return got;
}

TEST(UpstreamHealth, RecoveredUpstreamIsUsedAgain) {
  ClosedPort dead;
  Backend live("live");
  CorralConfig cfg;
  cfg.add(dead.address());
  cfg.add(live);
  cfg.extra = "health: { path: /health, interval: 200ms, timeout: 200ms }\n";
  Corral corral(cfg);

  // While it is down, every request is served by the live one.
  HttpClient client(corral.port());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(client.get("/").body(), "live") << "request " << i;

  // It comes back on the same port: after a successful probe it gets requests again.
  const std::uint16_t port = dead.port();
  dead.release();
  Backend back("back", port);
  EXPECT_TRUE(wait_for_backend(corral.port(), "back", 10s))
      << "the recovered upstream was never used again";
}

TEST(UpstreamHealth, ReadyzFollowsTheOnlyUpstream) {
  ClosedPort dead;
  CorralConfig cfg;
  cfg.add(dead.address());
  cfg.extra = "health: { path: /health, interval: 200ms, timeout: 200ms }\n";
  Corral corral(cfg);

  // The active check finds the upstream down without any client request.
  EXPECT_EQ(wait_readyz(corral, 503, 5s), 503u);

  const std::uint16_t port = dead.port();
  dead.release();
  Backend back("back", port);
  EXPECT_EQ(wait_readyz(corral, 200, 10s), 200u) << "/readyz stayed 503 after recovery";
  EXPECT_TRUE(wait_for_backend(corral.port(), "back", 5s));
}

TEST(UpstreamHealth, UpstreamDyingWithPooledConnectionsCausesNoClientFailures) {
  Backend a("a"), b("b");
  CorralConfig cfg;
  cfg.add(a);
  cfg.add(b);
  cfg.extra = "health: { path: /health, interval: 200ms, timeout: 200ms }\n";
  Corral corral(cfg);

  // Both upstreams have served, so corral may hold kept-alive connections to both.
  HttpClient client(corral.port());
  std::set<std::string> names;
  for (int i = 0; i < 4; ++i) names.insert(client.get("/").body());
  ASSERT_EQ(names, (std::set<std::string>{"a", "b"}));

  // b dies: its pooled connections are dead and new connects are refused. Whether the active
  // check, an ejection or a retry catches it first, clients see only a's answers.
  b.process().kill();
  ASSERT_TRUE(b.process().wait_exit(5s));
  for (int i = 0; i < 20; ++i) {
    auto res = client.get("/");
    EXPECT_EQ(res.result_int(), 200) << "request " << i;
    EXPECT_EQ(res.body(), "a") << "request " << i;
  }
}

}  // namespace
}  // namespace corral::test
