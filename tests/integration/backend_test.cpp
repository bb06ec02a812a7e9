// The harness and the test backend on their own, without corral: when these fail, the other
// integration tests' failures say nothing about the proxy.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

TEST(Harness, BackendAnswersWithItsName) {
  Backend be("alpha");
  HttpClient client(be.port());
  auto res = client.get("/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "alpha");
  EXPECT_EQ(res["X-Backend"], "alpha");
  EXPECT_EQ(client.get("/status?code=418").result_int(), 418);
  EXPECT_EQ(be.counts().seen, 2);
}

TEST(Harness, BackendBytesFollowThePattern) {
  Backend be("alpha");
  auto res = http_get(be.port(), "/bytes?n=100000");
  ASSERT_EQ(res.body().size(), 100000u);
  EXPECT_TRUE(res.body() == pattern_bytes(0, 100000));
}

TEST(Harness, BackendUploadReportsCountAndSha256) {
  Backend be("alpha");
  HttpClient client(be.port());
  http::request<http::string_body> req{http::verb::post, "/upload", 11};
  req.body() = pattern_bytes(3, 70000);
  auto res = client.request(std::move(req));
  auto obj = parse_json_object(res.body());
  EXPECT_EQ(obj.at("bytes").to_number<std::uint64_t>(), 70000u);
  EXPECT_EQ(obj.at("sha256").as_string(), sha256_hex(pattern_bytes(3, 70000)));
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Harness, RawClientSeesCloseAndTimeout) {
  Backend be("alpha");
  HttpClient client(be.port());
  ASSERT_FALSE(client.send_raw("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto all = client.read_until_close(5s);
  EXPECT_TRUE(all.closed);
  EXPECT_EQ(raw_status(all.data), 200);
  EXPECT_EQ(raw_header(all.data, "x-backend"), "alpha");

  HttpClient idle(be.port());
  idle.connect();
  const auto start = std::chrono::steady_clock::now();
  auto none = idle.read_until_close(200ms);
  EXPECT_TRUE(none.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Harness, BackendTellsAbortedRequestsFromMalformedOnes) {
  Backend be("alpha");
  {
    HttpClient client(be.port());
    ASSERT_FALSE(client.send_raw(
        "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  }  // closed half-way through the body
  {
    HttpClient client(be.port());
    ASSERT_FALSE(client.send_raw(
        "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n"));
    auto all = client.read_until_close(5s);
    EXPECT_EQ(raw_status(all.data), 400) << all.data;
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  Backend::Counts c;
  do {
    c = be.counts();
  } while ((c.aborted < 1 || c.client_errors < 1) && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(c.aborted, 1);
  EXPECT_EQ(c.client_errors, 1);
  EXPECT_EQ(c.seen, 2);
  EXPECT_EQ(c.complete, 0);
}

TEST(Harness, ClosedPortRefuses) {
  ClosedPort dead;
  HttpClient client(dead.port());
  EXPECT_TRUE(client.try_connect());
}

TEST(Harness, WaitForLineTimesOutAndThrows) {
  Process p({"sleep", "5"});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(p.try_wait_for_line(std::regex("never"), 100ms));
  EXPECT_THROW(p.wait_for_line(std::regex("never"), 100ms), HarnessError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  p.terminate();
  EXPECT_EQ(p.wait_exit(2s), 128 + SIGTERM);
}

TEST(Harness, RunCommandCapturesBothStreams) {
  auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_THROW(Process({"/nonexistent/program"}), HarnessError);
}

TEST(Harness, PrometheusParsing) {
  const std::string text =
      "# TYPE corral_requests_total counter\n"
      "corral_requests_total{upstream=\"127.0.0.1:1\",class=\"2xx\"} 3\n"
      "corral_requests_total{class=\"2xx\",upstream=\"127.0.0.1:2\"} 4\n"
      "corral_requests_total{upstream=\"127.0.0.1:2\",class=\"5xx\"} 1\n"
      "corral_retries_total 7\n"
      "corral_request_duration_seconds_bucket{le=\"+Inf\"} 8\n";
  EXPECT_EQ(prometheus_value(text, "corral_requests_total", {{"class", "2xx"}}), 7.0);
  EXPECT_EQ(prometheus_value(text, "corral_requests_total", {{"upstream", "127.0.0.1:2"}}), 5.0);
  EXPECT_EQ(prometheus_value(text, "corral_retries_total", {}), 7.0);
  EXPECT_EQ(prometheus_value(text, "corral_retries", {}), std::nullopt);
  EXPECT_EQ(prometheus_value(text, "corral_request_duration_seconds_bucket", {{"le", "+Inf"}}),
            8.0);
}

}  // namespace
}  // namespace corral::test
