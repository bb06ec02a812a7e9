// A client connection between requests: it holds no session, yet its deadlines, the drain and
// requests that arrive together (pipelined, or a header split across reads) behave as before.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

TEST(IdleConnection, SilentNewConnectionClosesAfterTheHeaderTimeout) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.timeouts["client_header"] = "300ms";
  cfg.timeouts["idle"] = "60s";
  Corral corral(cfg);

  HttpClient client(corral.port());
  client.connect();
  const auto start = std::chrono::steady_clock::now();
  auto all = client.read_until_close(5s);
  EXPECT_TRUE(all.closed) << "a connection that never sent a byte was kept past client_header";
  EXPECT_TRUE(all.data.empty()) << "nothing was asked, so nothing is answered: " << all.data;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(IdleConnection, LaterRequestsOnAKeptAliveConnectionAreServed) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client.get("/").body(), "a") << "request " << i;
  EXPECT_EQ(client.connects(), 1) << "the connection was not kept alive between requests";
}

TEST(IdleConnection, PipelinedRequestsAreAnsweredInOrder) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  client.connect();
  const std::string host = client.host_header();
  std::string both = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n" +
                     "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  ASSERT_FALSE(client.send_raw(both));
  for (const char* which : {"first", "second"}) {
    beast::error_code ec;
    auto res = client.read_response(ec);
    ASSERT_FALSE(ec) << which << ": " << ec.message();
    EXPECT_EQ(res.result_int(), 200) << which;
    EXPECT_EQ(res.body(), "a") << which;
  }
}

TEST(IdleConnection, AHeaderLongerThanTheFirstReadIsServed) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  EXPECT_EQ(client.get("/").body(), "a");
  // After an idle wait, a header of several KiB: its first bytes arrive in the idle
  // connection's small read, the rest in the session's.
  auto res = client.get("/", {{"X-Filler", std::string(6000, 'x')}, {"Cookie", "a=b"}});
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "a");
}

TEST(IdleConnection, HeldIdleConnectionClosesAfterTheDrainGrace) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.timeouts["idle"] = "60s";
  Corral corral(cfg);

  HttpClient client(corral.port());
  EXPECT_EQ(client.get("/").body(), "a");
  const auto start = std::chrono::steady_clock::now();
  corral.process().terminate();
  auto all = client.read_until_close(8s);
  EXPECT_TRUE(all.closed) << "an idle keep-alive connection outlived the drain";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  auto code = corral.process().wait_exit(8s);
  ASSERT_TRUE(code) << "corral did not exit after draining";
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace corral::test
