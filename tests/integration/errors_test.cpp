// The answers corral gives when it cannot forward a request: 502, 503, 504 for upstream
// trouble, 408, 413, 431 for client trouble; and retries that hide a dead upstream.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

// Error answers carry a short plain-text body saying what happened.
void expect_plain_text_error(const http::response<http::string_body>& res) {
  EXPECT_TRUE(lower(res[http::field::content_type]).starts_with("text/plain"))
      << "Content-Type: " << res[http::field::content_type];
  EXPECT_FALSE(res.body().empty()) << "status " << res.result_int() << " without a body";
}

void expect_plain_text_error(std::string_view raw) {
  EXPECT_TRUE(lower(raw_header(raw, "Content-Type")).starts_with("text/plain")) << raw;
  auto end = raw.find("\r\n\r\n");
  ASSERT_NE(end, std::string_view::npos) << raw;
  EXPECT_GT(raw.size(), end + 4) << "error answer without a body: " << raw;
}

TEST(Errors, BadGatewayWhenTheOnlyUpstreamRefuses) {
  ClosedPort dead;
  CorralConfig cfg;
  cfg.add(dead.address());
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto res = client.get("/");
  EXPECT_EQ(res.result_int(), 502);
  expect_plain_text_error(res);
  EXPECT_GT(corral.wait_metric("corral_upstream_connect_failures_total",
                               {{"upstream", dead.address()}}, [](double v) { return v > 0; }),
            0);
}

TEST(Errors, NoUsableUpstreamEndsIn503) {
  ClosedPort dead1, dead2;
  CorralConfig cfg;
  cfg.add(dead1.address());
  cfg.add(dead2.address());
  Corral corral(cfg);

  // While the upstreams are still being tried the answer is 502; once both are ejected after
  // their connect failures it is 503. Either way a plain-text explanation.
  int seen_503 = 0;
  for (int i = 0; i < 20; ++i) {
    auto res = http_get(corral.port(), "/");
    EXPECT_TRUE(res.result_int() == 502 || res.result_int() == 503)
        << "request " << i << " got " << res.result_int();
    expect_plain_text_error(res);
    seen_503 += res.result_int() == 503;
  }
  EXPECT_GT(seen_503, 0) << "dead upstreams were never ejected";
  EXPECT_GT(corral.wait_metric("corral_ejections_total", {}, [](double v) { return v >= 2; }), 0);

  // With no usable upstream corral is not ready.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  unsigned ready = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    ready = corral.admin_get("/readyz").result_int();
    if (ready == 503) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(ready, 503u);
  EXPECT_EQ(corral.admin_get("/healthz").result_int(), 200u) << "alive even when not ready";
}

TEST(Errors, RetryHidesADeadUpstream) {
  ClosedPort dead;
  Backend live("live");
  CorralConfig cfg;
  cfg.add(dead.address());
  cfg.add(live);
  cfg.retries = "2";
  Corral corral(cfg);

  HttpClient client(corral.port());
  int failures = 0;
  for (int i = 0; i < 50; ++i) {
    auto res = client.get("/");
    failures += res.result_int() != 200;
    EXPECT_EQ(res.body(), "live") << "request " << i;
  }
  EXPECT_EQ(failures, 0);
  // Bodies are retried too when nothing reached the upstream yet.
  for (int i = 0; i < 10; ++i) {
    http::request<http::string_body> req{http::verb::post, "/echo", 11};
    req.body() = "payload " + std::to_string(i);
    auto res = client.request(std::move(req));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "payload " + std::to_string(i));
  }

  auto text = corral.metrics();
  const double masked = prometheus_value(text, "corral_masked_failures_total", {}).value_or(0);
  const double retries = prometheus_value(text, "corral_retries_total", {}).value_or(0);
  EXPECT_GT(masked + retries, 0) << text;
  EXPECT_GT(prometheus_value(text, "corral_upstream_connect_failures_total",
                             {{"upstream", dead.address()}})
                .value_or(0),
            0)
      << text;
}

TEST(Errors, RetryHidesAnUpstreamThatResets) {
  Backend broken("broken", 0, "reset");
  Backend live("live");
  CorralConfig cfg;
  cfg.add(broken);
  cfg.add(live);
  cfg.retries = "2";
  Corral corral(cfg);

  // A reset before any response byte is retried on the other upstream (GET is idempotent).
  HttpClient client(corral.port());
  for (int i = 0; i < 20; ++i) {
    auto res = client.get("/");
    EXPECT_EQ(res.result_int(), 200) << "request " << i;
    EXPECT_EQ(res.body(), "live") << "request " << i;
  }
  EXPECT_GT(broken.counts().seen, 0) << "the resetting upstream was never tried";
  EXPECT_GT(corral.wait_metric("corral_masked_failures_total", {}, [](double v) { return v > 0; }),
            0);
}

TEST(Errors, BadGatewayWhenTheOnlyUpstreamResets) {
  Backend broken("broken", 0, "reset");
  CorralConfig cfg;
  cfg.add(broken);
  Corral corral(cfg);

  auto res = http_get(corral.port(), "/");
  EXPECT_EQ(res.result_int(), 502);
  expect_plain_text_error(res);
}

TEST(Errors, ConnectionsOverTheLimitAreRefused) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.limits["max_connections"] = "2";
  Corral corral(cfg);

  HttpClient first(corral.port()), second(corral.port());
  ASSERT_EQ(first.get("/").result_int(), 200);
  ASSERT_EQ(second.get("/").result_int(), 200);

  // A third connection is not served: refused, closed, or answered with an error.
  HttpClient third(corral.port(), 3s);
  beast::error_code ec;
  http::request<http::string_body> req{http::verb::get, "/", 11};
  auto res = third.request(std::move(req), ec);
  EXPECT_TRUE(ec || res.result_int() != 200) << "a third connection was served";
  EXPECT_NE(ec, beast::error::timeout) << "the refused connection was left hanging";

  // Once a slot frees up, new connections are served again.
  first.close();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  unsigned status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    HttpClient again(corral.port(), 2s);
    http::request<http::string_body> r{http::verb::get, "/", 11};
    auto got = again.request(std::move(r), ec);
    status = ec ? 0 : got.result_int();
    if (status != 200) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 200u);
  EXPECT_EQ(second.get("/").result_int(), 200) << "the connections within the limit still work";
}

TEST(Errors, GatewayTimeoutWhenTheUpstreamIsTooSlow) {
  Backend slow("slow");
  CorralConfig cfg;
  cfg.add(slow);
  cfg.timeouts["upstream_response"] = "300ms";
  Corral corral(cfg);

  HttpClient client(corral.port(), 10s);
  const auto start = std::chrono::steady_clock::now();
  auto res = client.get("/slow?ms=3000");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(res.result_int(), 504);
  expect_plain_text_error(res);
  EXPECT_LT(took, 2500ms) << "the 504 should come near the 300 ms timeout";

  // A fast request afterwards is answered normally.
  EXPECT_EQ(http_get(corral.port(), "/").body(), "slow");
}

TEST(Errors, HeaderTooLargeIs431) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.limits["max_header_bytes"] = "16KiB";
  Corral corral(cfg);
  const auto before = be.counts();

  HttpClient client(corral.port());
  auto res = client.get("/", {{"X-Big", std::string(20 * 1024, 'a')}});
  EXPECT_EQ(res.result_int(), 431);
  expect_plain_text_error(res);
  EXPECT_EQ(be.counts().seen, before.seen) << "an oversized header reached the backend";

  // Just under the limit is fine.
  EXPECT_EQ(http_get(corral.port(), "/").result_int(), 200);
  auto ok = HttpClient(corral.port()).get("/", {{"X-Big", std::string(8 * 1024, 'a')}});
  EXPECT_EQ(ok.result_int(), 200);
}

TEST(Errors, BodyOverTheLimitIs413) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.limits["max_body_bytes"] = "1KiB";
  Corral corral(cfg);
  const auto before = be.counts();

  // The header announces more than the limit: corral answers without waiting for the body.
  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw("POST /upload HTTP/1.1\r\nHost: " + client.host_header() +
                               "\r\nContent-Length: 1048576\r\n\r\n" + std::string(512, 'x')));
  auto all = client.read_until_close(5s);
  EXPECT_EQ(raw_status(all.data), 413) << all.data;
  expect_plain_text_error(all.data);
  EXPECT_EQ(be.counts().complete, before.complete);

  // A body within the limit passes.
  HttpClient ok_client(corral.port());
  http::request<http::string_body> req{http::verb::post, "/upload", 11};
  req.body() = std::string(1000, 'y');
  auto ok = ok_client.request(std::move(req));
  EXPECT_EQ(ok.result_int(), 200);
}

TEST(Errors, ChunkedBodyOverTheLimitIsRefused) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.limits["max_body_bytes"] = "1KiB";
  Corral corral(cfg);
  const auto before = be.counts();

  HttpClient client(corral.port());
  std::string req = "POST /upload HTTP/1.1\r\nHost: " + client.host_header() +
                    "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 8; ++i) req += "200\r\n" + std::string(512, 'z') + "\r\n";
  req += "0\r\n\r\n";
  client.send_raw(req);  // corral may close before reading it all
  auto all = client.read_until_close(5s);
  EXPECT_TRUE(all.closed);
  // Whether the upstream got the head already or not, the client learns of the limit and the
  // backend never gets the whole body.
  EXPECT_EQ(raw_status(all.data), 413) << all.data;
  EXPECT_EQ(be.counts().complete, before.complete) << "a body over the limit reached the backend";
}

TEST(Errors, SlowClientHeaderIs408) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.timeouts["client_header"] = "300ms";
  Corral corral(cfg);

  HttpClient client(corral.port());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(client.send_raw("GET / HTTP/1.1\r\nHost: " + client.host_header() + "\r\nX-Half"));
  auto all = client.read_until_close(5s);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(all.timed_out) << "corral kept waiting for the rest of the header";
  EXPECT_EQ(raw_status(all.data), 408) << all.data;
  expect_plain_text_error(all.data);
  EXPECT_TRUE(all.closed);
  EXPECT_LT(took, 3s);
}

TEST(Errors, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.timeouts["idle"] = "300ms";
  Corral corral(cfg);

  HttpClient client(corral.port());
  EXPECT_EQ(client.get("/").body(), "a");
  auto all = client.read_until_close(5s);
  EXPECT_TRUE(all.closed) << "an idle keep-alive connection should be closed after 300 ms";
}

}  // namespace
}  // namespace corral::test
