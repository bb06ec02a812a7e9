// The admin listener: /healthz, /readyz and /metrics in Prometheus text format.
#include <gtest/gtest.h>

#include <future>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

TEST(Admin, HealthzAndReadyzAnswer200) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  auto health = corral.admin_get("/healthz");
  EXPECT_EQ(health.result_int(), 200);
  auto ready = corral.admin_get("/readyz");
  EXPECT_EQ(ready.result_int(), 200);
}

TEST(Admin, MetricsCountRequestsByUpstreamAndClass) {
  Backend a("a"), b("b");
  CorralConfig cfg;
  cfg.add(a);
  cfg.add(b);
  Corral corral(cfg);

  HttpClient client(corral.port());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(client.get("/").result_int(), 200);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(client.get("/status?code=404").result_int(), 404);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(client.get("/status?code=500").result_int(), 500);

  // Counters may be bumped just after the response went out: poll until they settle.
  auto requests = [&](const Backend& be, const std::string& cls) {
    return corral.wait_metric("corral_requests_total", {{"upstream", be.address()}, {"class", cls}},
                              [](double v) { return v >= 3; });
  };
  EXPECT_EQ(requests(a, "2xx"), 3);
  EXPECT_EQ(requests(b, "2xx"), 3);
  EXPECT_EQ(corral.wait_metric("corral_requests_total", {{"class", "4xx"}},
                               [](double v) { return v >= 2; }),
            2);
  EXPECT_EQ(corral.wait_metric("corral_requests_total", {{"class", "5xx"}},
                               [](double v) { return v >= 2; }),
            2);

  auto res = corral.admin_get("/metrics");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_TRUE(lower(res[http::field::content_type]).starts_with("text/plain"))
      << res[http::field::content_type];
  const std::string& text = res.body();
  EXPECT_NE(text.find("# TYPE corral_requests_total counter"), std::string::npos) << text;

  // The latency histogram counted every request, and its +Inf bucket equals its count.
  auto inf = prometheus_value(text, "corral_request_duration_seconds_bucket", {{"le", "+Inf"}});
  ASSERT_TRUE(inf) << text;
  EXPECT_EQ(*inf, 10);
  auto count = prometheus_value(text, "corral_request_duration_seconds_count", {});
  if (count) EXPECT_EQ(*count, 10);

  EXPECT_EQ(prometheus_value(text, "corral_in_flight", {{"upstream", a.address()}}), 0.0) << text;
  EXPECT_EQ(prometheus_value(text, "corral_in_flight", {{"upstream", b.address()}}), 0.0) << text;
  EXPECT_GE(prometheus_value(text, "corral_connections_open", {}).value_or(-1), 1)
      << "the client's kept-alive connection is open; " << text;
  EXPECT_EQ(
      prometheus_value(text, "corral_upstream_connect_failures_total", {{"upstream", a.address()}}),
      0.0)
      << text;
  EXPECT_EQ(prometheus_value(text, "corral_retries_total", {}), 0.0) << text;
  EXPECT_EQ(prometheus_value(text, "corral_masked_failures_total", {}), 0.0) << text;
  EXPECT_EQ(prometheus_value(text, "corral_ejections_total", {{"upstream", a.address()}}), 0.0)
      << text;
}

TEST(Admin, InFlightShowsARunningRequest) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  auto slow = std::async(std::launch::async, [port = corral.port()] {
    HttpClient c(port, 10s);
    return c.get("/slow?ms=1500");
  });
  ASSERT_TRUE(be.wait_slow_begin(5s));
  EXPECT_EQ(corral.wait_metric("corral_in_flight", {{"upstream", be.address()}},
                               [](double v) { return v == 1; }),
            1);
  EXPECT_EQ(slow.get().result_int(), 200);
  EXPECT_EQ(corral.wait_metric("corral_in_flight", {{"upstream", be.address()}},
                               [](double v) { return v == 0; }),
            0);
}

TEST(Admin, ConnectionsOpenFollowsClients) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  // Whether the admin connection that reads /metrics counts or not, three clients add three.
  const double base = corral.metric("corral_connections_open").value_or(-1);
  ASSERT_GE(base, 0) << "no corral_connections_open in /metrics";
  {
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(std::make_unique<HttpClient>(corral.port()));
      EXPECT_EQ(clients.back()->get("/").result_int(), 200);
    }
    EXPECT_EQ(
        corral.wait_metric("corral_connections_open", {}, [&](double v) { return v == base + 3; }),
        base + 3);
  }
  EXPECT_EQ(corral.wait_metric("corral_connections_open", {}, [&](double v) { return v == base; }),
            base);
}

}  // namespace
}  // namespace corral::test
