// Which upstream corral picks: exact round-robin order, exact weighted shares, and
// least-loaded steering away from a busy upstream.
#include <gtest/gtest.h>

#include <future>
#include <map>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

std::vector<std::string> names_of_n_gets(HttpClient& client, int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    auto res = client.get("/");
    EXPECT_EQ(res.result_int(), 200) << "request " << i;
    EXPECT_EQ(res["X-Backend"], res.body()) << "request " << i;
    names.push_back(res.body());
  }
  return names;
}

TEST(Balancing, RoundRobinIsExactOverOneKeepAliveConnection) {
  Backend a("a"), b("b"), c("c");
  CorralConfig cfg;
  cfg.add(a);
  cfg.add(b);
  cfg.add(c);
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto names = names_of_n_gets(client, 30);
  EXPECT_EQ(client.connects(), 1) << "the 30 requests should share one keep-alive connection";

  std::map<std::string, int> share;
  for (const auto& n : names) ++share[n];
  EXPECT_EQ(share["a"], 10);
  EXPECT_EQ(share["b"], 10);
  EXPECT_EQ(share["c"], 10);

  // Equal weights rotate in configuration order: a, b, c, a, b, c, ...
  const std::vector<std::string> order = {"a", "b", "c"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(names[i], order[i % 3])
        << "request " << i << " of sequence " << ::testing::PrintToString(names);
  }
}

TEST(Balancing, WeightedSharesAreExact) {
  Backend heavy("heavy"), light("light");
  CorralConfig cfg;
  cfg.add(heavy, 2);
  cfg.add(light, 1);
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto names = names_of_n_gets(client, 30);

  std::map<std::string, int> share;
  for (const auto& n : names) ++share[n];
  EXPECT_EQ(share["heavy"], 20);
  EXPECT_EQ(share["light"], 10);
  // Smooth weighted round robin: every period of three picks holds two heavy and one light.
  for (std::size_t i = 0; i + 3 <= names.size(); i += 3) {
    int heavy_in_period = 0;
    for (std::size_t j = i; j < i + 3; ++j) heavy_in_period += names[j] == "heavy";
    EXPECT_EQ(heavy_in_period, 2) << "period starting at request " << i << " of "
                                  << ::testing::PrintToString(names);
  }
}

TEST(Balancing, WeightedSharesHoldAcrossManyConnections) {
  Backend heavy("heavy"), light("light");
  CorralConfig cfg;
  cfg.add(heavy, 2);
  cfg.add(light, 1);
  Corral corral(cfg);

  std::map<std::string, int> share;
  for (int i = 0; i < 30; ++i) {
    auto res = http_get(corral.port(), "/");
    ASSERT_EQ(res.result_int(), 200);
    ++share[res.body()];
  }
  EXPECT_EQ(share["heavy"], 20);
  EXPECT_EQ(share["light"], 10);
}

TEST(Balancing, LeastLoadedAvoidsTheBusyUpstream) {
  Backend a("a"), b("b");
  CorralConfig cfg;
  cfg.balance = "least_loaded";
  cfg.threads = "2";
  cfg.add(a);
  cfg.add(b);
  Corral corral(cfg);

  // One long request keeps one upstream busy...
  auto slow = std::async(std::launch::async, [port = corral.port()] {
    HttpClient c(port, 15s);
    return c.get("/slow?ms=2500");
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  Backend* busy = nullptr;
  while (!busy && std::chrono::steady_clock::now() < deadline) {
    if (a.wait_slow_begin(10ms))
      busy = &a;
    else if (b.wait_slow_begin(10ms))
      busy = &b;
  }
  ASSERT_NE(busy, nullptr) << "the slow request never reached a backend";
  const std::string idle_name = busy == &a ? "b" : "a";

  // ...so every request made meanwhile goes to the other one. (Only sequential requests: a
  // concurrent one would tie the two upstreams at one in flight each.)
  HttpClient client(corral.port());
  for (int i = 0; i < 10; ++i) {
    auto res = client.get("/");
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), idle_name) << "sequential request " << i;
  }
  auto res = slow.get();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), busy->name());
}

TEST(Balancing, LeastLoadedSpreadsSequentialRequests) {
  Backend a("a"), b("b");
  CorralConfig cfg;
  cfg.balance = "least_loaded";
  cfg.add(a);
  cfg.add(b);
  Corral corral(cfg);

  // With nothing in flight every pick is a tie; ties must not all go to the same upstream.
  HttpClient client(corral.port());
  std::map<std::string, int> share;
  for (const auto& n : names_of_n_gets(client, 20)) ++share[n];
  EXPECT_GT(share["a"], 0);
  EXPECT_GT(share["b"], 0);
}

}  // namespace
}  // namespace corral::test
