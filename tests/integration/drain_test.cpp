// SIGTERM: not ready any more, listeners closed, in-flight requests finished, idle
// keep-alive connections closed, exit code 0.
#include <gtest/gtest.h>

#include <future>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

TEST(Drain, SigtermLetsTheInFlightRequestFinish) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.timeouts["drain"] = "10s";
  Corral corral(cfg);

  // An idle kept-alive connection, and one request in flight.
  HttpClient idle(corral.port());
  ASSERT_EQ(idle.get("/").body(), "a");
  auto slow = std::async(std::launch::async, [port = corral.port()] {
    HttpClient c(port, 10s);
    return c.get("/slow?ms=1500");
  });
  ASSERT_TRUE(be.wait_slow_begin(5s));
  ASSERT_EQ(corral.admin_get("/readyz").result_int(), 200);

  corral.process().terminate();

  // While draining: /readyz says 503 and the listener stops taking connections.
  const auto deadline = std::chrono::steady_clock::now() + 1200ms;
  bool saw_not_ready = false;
  bool saw_refused = false;
  while ((!saw_not_ready || !saw_refused) && std::chrono::steady_clock::now() < deadline) {
    if (!saw_not_ready) {
      HttpClient admin(corral.admin_port(), 1s);
      beast::error_code ec;
      http::request<http::string_body> req{http::verb::get, "/readyz", 11};
      auto res = admin.request(std::move(req), ec);
      saw_not_ready = !ec && res.result_int() == 503;
    }
    if (!saw_refused) {
      HttpClient probe(corral.port(), 1s);
      saw_refused = static_cast<bool>(probe.try_connect());
    }
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(saw_not_ready) << "/readyz did not turn 503 while draining";
  EXPECT_TRUE(saw_refused) << "the listener still accepted connections while draining";

  // The idle connection is closed, not left to its idle timeout.
  auto idle_end = idle.read_until_close(5s);
  EXPECT_TRUE(idle_end.closed) << "idle keep-alive connection left open during drain";

  auto res = slow.get();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "a");

  auto code = corral.process().wait_exit(8s);
  ASSERT_TRUE(code) << "corral did not exit after draining";
  EXPECT_EQ(*code, 0);
}

TEST(Drain, SigtermWhenIdleExitsPromptly) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  EXPECT_EQ(http_get(corral.port(), "/").body(), "a");
  const auto start = std::chrono::steady_clock::now();
  corral.process().terminate();
  auto code = corral.process().wait_exit(5s);
  ASSERT_TRUE(code) << "corral did not exit";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(Drain, SigintDrainsLikeSigterm) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  corral.process().signal(SIGINT);
  auto code = corral.process().wait_exit(5s);
  ASSERT_TRUE(code) << "corral did not exit on SIGINT";
  EXPECT_EQ(*code, 0);
}

TEST(Drain, DrainTimeoutBoundsTheWait) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.timeouts["drain"] = "500ms";
  Corral corral(cfg);

  auto slow = std::async(std::launch::async, [port = corral.port()] {
    HttpClient c(port, 15s);
    beast::error_code ec;
    http::request<http::string_body> req{http::verb::get, "/slow?ms=10000", 11};
    auto res = c.request(std::move(req), ec);
    return ec ? 0u : res.result_int();
  });
  ASSERT_TRUE(be.wait_slow_begin(5s));
  const auto start = std::chrono::steady_clock::now();
  corral.process().terminate();
  auto code = corral.process().wait_exit(5s);
  ASSERT_TRUE(code) << "corral kept waiting past timeouts.drain";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // The cut request ends (an error answer or a closed connection) instead of hanging.
  EXPECT_NE(slow.get(), 200u) << "a request cut by the drain deadline cannot complete";
}

}  // namespace
}  // namespace corral::test
