// The proxy's request queue in front of worker slots: requests beyond a slot's in-flight limit
// wait in corral, leave with 503 + Retry-After after timeouts.queue, leave when their client
// goes away, and a request the worker has read is never sent to another one.
#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "tests/integration/cluster_harness.hpp"

namespace corral::test {
namespace {

// The sum of the samples of `name` in corral's /metrics.
double metric(std::uint16_t admin_port, const std::string& name) {
  auto body = http_get(admin_port, "/metrics").body();
  const std::regex line("^" + name + R"((\{[^}]*\})? ([0-9.e+-]+)$)", std::regex::multiline);
  double sum = 0;
  for (std::sregex_iterator it(body.begin(), body.end(), line), end; it != end; ++it)
    sum += std::stod((*it)[2].str());
  return sum;
}

bool metric_reaches(std::uint16_t admin_port, const std::string& name, double value) {
  return eventually([&] { return metric(admin_port, name) >= value; }, 5s);
}

ClusterConfig one_at_a_time(const std::string& queue_timeout) {
  ClusterConfig c;
  c.count = 1;
  c.extra_workers = "  max_in_flight: 1\n";
  c.extra = "limits: { max_queue: 100 }\n";
  c.drain = "1s";
  // timeouts: is written by the harness; the queue's goes with it.
  c.queue_timeout = queue_timeout;
  return c;
}

TEST(Queue, ARequestBeyondTheLimitWaitsThenGets503WithRetryAfter) {
  Cluster cluster(one_at_a_time("300ms"));
  auto slow = std::async(std::launch::async, [&] { return http_get(cluster.port(), "/slow?ms=2500", 10s); });
  ASSERT_TRUE(metric_reaches(cluster.admin_port(), "corral_in_flight", 1));
  const auto start = std::chrono::steady_clock::now();
  auto waited = http_get(cluster.port(), "/", 10s);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(waited.result_int(), 503) << waited.body();
  EXPECT_EQ(waited[http::field::retry_after], "1");
  EXPECT_NE(waited.body().find("timeouts.queue"), std::string::npos) << waited.body();
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2000ms);
  EXPECT_EQ(slow.get().result_int(), 200);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_queue_timeouts_total"), 1);
}

TEST(Queue, AWaitingRequestIsServedInTurnWhenTheSlotFrees) {
  Cluster cluster(one_at_a_time("10s"));
  auto slow = std::async(std::launch::async, [&] { return http_get(cluster.port(), "/slow?ms=500", 10s); });
  ASSERT_TRUE(metric_reaches(cluster.admin_port(), "corral_in_flight", 1));
  auto waited = http_get(cluster.port(), "/", 10s);
  EXPECT_EQ(waited.result_int(), 200);
  EXPECT_EQ(slow.get().result_int(), 200);
  EXPECT_GE(metric(cluster.admin_port(), "corral_queue_requests_total"), 1);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_in_flight_limit"), 1);
}

TEST(Queue, AClientThatGoesAwayLeavesTheQueue) {
  Cluster cluster(one_at_a_time("10s"));
  auto slow = std::async(std::launch::async, [&] { return http_get(cluster.port(), "/slow?ms=1500", 10s); });
  ASSERT_TRUE(metric_reaches(cluster.admin_port(), "corral_in_flight", 1));
  {
    HttpClient gone(cluster.port());
    gone.connect();
    ASSERT_FALSE(gone.send_raw("GET /?gone HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(metric_reaches(cluster.admin_port(), "corral_queue_length", 1));
    gone.close();
  }
  EXPECT_TRUE(metric_reaches(cluster.admin_port(), "corral_queue_abandoned_total", 1));
  EXPECT_EQ(metric(cluster.admin_port(), "corral_queue_length"), 0);
  EXPECT_EQ(slow.get().result_int(), 200);
  // The worker served the slow request and the next one only: the abandoned one, which was
  // ahead of the next in line, never reached it.
  EXPECT_EQ(http_get(cluster.port(), "/?next", 5s).result_int(), 200);
  ASSERT_TRUE(metric_reaches(cluster.admin_port(), "corral_requests_total", 2));
  EXPECT_EQ(metric(cluster.admin_port(), "corral_requests_total"), 2);
}

TEST(Queue, APostTheWorkerReadIsNotReplayedOnAnotherWorker) {
  ClusterConfig c;
  c.count = 2;
  c.defaults = true;
  Cluster cluster(c);
  http::request<http::string_body> post{http::verb::post, "/exit", 11};
  post.body() = "charge the card once";
  HttpClient client(cluster.port(), 10s);
  auto res = client.request(post);
  EXPECT_EQ(res.result_int(), 502) << res.body();
  // Exactly one worker read it (and exited): the 502 came instead of a replay, which would have
  // made the other worker read it (and exit) too.
  cluster.master().wait_for_line(std::regex("exit after POST"), 5s);
  int seen = 0;
  std::istringstream out(cluster.master().output(Stream::any));
  for (std::string l; std::getline(out, l);) seen += l.find("exit after POST") != std::string::npos;
  EXPECT_EQ(seen, 1);
}

TEST(Queue, LongPollsDoNotStarveTheWorkerOfShortRequests) {
  // Default config, one worker: three requests that take 4 s (long polls) fill its adaptive
  // limit; a short request still gets through long before they end.
  ClusterConfig c;
  c.count = 1;
  c.defaults = true;
  Cluster cluster(c);
  std::vector<std::future<http::response<http::string_body>>> polls;
  for (int i = 0; i < 3; ++i)
    polls.push_back(std::async(std::launch::async,
                               [&] { return http_get(cluster.port(), "/slow?ms=4000", 10s); }));
  ASSERT_TRUE(metric_reaches(cluster.admin_port(), "corral_in_flight", 1));
  const auto start = std::chrono::steady_clock::now();
  auto quick = http_get(cluster.port(), "/", 10s);
  EXPECT_EQ(quick.result_int(), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  for (auto& p : polls) EXPECT_EQ(p.get().result_int(), 200);
}

TEST(Queue, AWebSocketDoesNotHoldItsWorkersPlace) {
  // Default config, one worker: four open WebSocket tunnels, then plain requests still pass.
  ClusterConfig c;
  c.count = 1;
  c.defaults = true;
  c.script = "session_app.js";
  Cluster cluster(c);
  std::vector<std::unique_ptr<HttpClient>> sockets;
  for (int i = 0; i < 4; ++i) {
    auto ws = std::make_unique<HttpClient>(cluster.port());
    ws->connect();
    ASSERT_FALSE(ws->send_raw("GET /socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
    beast::error_code ec;
    std::string head = ws->read_until("\r\n\r\n", ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_NE(head.find(" 101 "), std::string::npos) << head;
    sockets.push_back(std::move(ws));
  }
  EXPECT_EQ(metric(cluster.admin_port(), "corral_in_flight"), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(http_get(cluster.port(), "/", 5s).result_int(), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
}

}  // namespace
}  // namespace corral::test
