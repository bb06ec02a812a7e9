// shutdown_delay: on SIGTERM /readyz turns 503 at once, corral keeps accepting and serving new
// and kept-alive connections for the delay (while endpoints and load balancers stop sending),
// then drains the requests in flight and exits; a live client sees no failed request.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "tests/integration/cluster_harness.hpp"
#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

using Clock = std::chrono::steady_clock;

// A client that sends GET / in a loop, alternating a kept-alive connection and new ones, and
// counts what happened until stopped.
class LiveClient {
 public:
  explicit LiveClient(std::uint16_t port) : port_(port), thread_([this] { run(); }) {}
  ~LiveClient() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  // Waits until both kinds of connection served `n` more requests than `since` reports.
  struct Counts {
    long kept = 0;
    long fresh = 0;
    long failed = 0;
  };
  Counts counts() const {
    std::lock_guard lock(mu_);
    return counts_;
  }
  bool wait_served(const Counts& since, long n, Millis timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      return counts_.kept >= since.kept + n && counts_.fresh >= since.fresh + n;
    });
  }
  std::string first_failure() const {
    std::lock_guard lock(mu_);
    return first_failure_;
  }

 private:
  void run() {
    HttpClient kept(port_, 5s);
    for (bool use_kept = true;; use_kept = !use_kept) {
      {
        std::lock_guard lock(mu_);
        if (stop_) return;
      }
      std::string failure;
      try {
        beast::error_code ec;
        http::request<http::string_body> req{http::verb::get, "/", 11};
        auto res = use_kept ? kept.request(std::move(req), ec) : [&] {
          HttpClient fresh(port_, 5s);
          return fresh.request(std::move(req), ec);
        }();
        if (ec)
          failure = ec.message();
        else if (res.result_int() != 200 || res.body() != "a")
          failure = "status " + std::to_string(res.result_int()) + ": " + res.body();
      } catch (const std::exception& e) {
        failure = e.what();
      }
      std::lock_guard lock(mu_);
      if (!failure.empty()) {
        if (counts_.failed++ == 0)
          first_failure_ = (use_kept ? "kept-alive: " : "new connection: ") + failure;
      } else {
        ++(use_kept ? counts_.kept : counts_.fresh);
      }
      cv_.notify_all();
    }
  }

  std::uint16_t port_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Counts counts_;
  std::string first_failure_;
  bool stop_ = false;
  std::thread thread_;
};

bool ready_is(std::uint16_t admin_port, unsigned status) {
  HttpClient admin(admin_port, 1s);
  beast::error_code ec;
  auto res = admin.request(http::request<http::string_body>{http::verb::get, "/readyz", 11}, ec);
  return !ec && res.result_int() == status;
}

TEST(ShutdownDelay, NotReadyAtOnceServingForTheDelayThenDrainedWithNoFailedRequest) {
  constexpr auto delay = 3s;
  constexpr auto drain = 5s;
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.timeouts["drain"] = "5s";
  cfg.access_log = "off";
  cfg.extra = "shutdown_delay: 3s\n";
  Corral corral(cfg);
  ASSERT_TRUE(ready_is(corral.admin_port(), 200));

  LiveClient client(corral.port());
  ASSERT_TRUE(client.wait_served({}, 5, 5s)) << client.first_failure();

  const auto sigterm_at = Clock::now();
  corral.process().terminate();

  // /readyz turns 503 at once.
  bool not_ready = false;
  while (!not_ready && Clock::now() < sigterm_at + 1s)
    not_ready = ready_is(corral.admin_port(), 503);
  EXPECT_TRUE(not_ready) << "/readyz did not turn 503 within 1 s of SIGTERM";
  EXPECT_EQ(corral.admin_get("/readyz").body(), "stopping\n");

  // New and kept-alive connections are still served after it went 503.
  const auto unready = client.counts();
  EXPECT_TRUE(client.wait_served(unready, 20, delay)) << client.first_failure();
  // A request in flight when the delay ends is finished by the drain.
  auto slow = std::async(std::launch::async, [port = corral.port()] {
    HttpClient c(port, 10s);
    beast::error_code ec;
    auto res =
        c.request(http::request<http::string_body>{http::verb::get, "/slow?ms=2000", 11}, ec);
    return ec ? ec.message() : std::to_string(res.result_int()) + " " + res.body();
  });
  ASSERT_TRUE(be.wait_slow_begin(5s));
  // Endpoints have stopped sending by the end of the delay: so does the client.
  client.stop();
  const auto stopped_at = Clock::now();
  EXPECT_LT(stopped_at, sigterm_at + delay)
      << "the machine is too slow for this test: the client ran past the delay";
  EXPECT_EQ(client.counts().failed, 0) << client.first_failure();
  EXPECT_TRUE(ready_is(corral.admin_port(), 503));

  // The drain starts when the delay is over, not before.
  ASSERT_TRUE(corral.process().try_wait_for_line(std::regex("shutdown delay over"), delay + 2s))
      << corral.process().tail();
  EXPECT_GE(Clock::now(), sigterm_at + delay - 100ms);

  EXPECT_EQ(slow.get(), "200 a");
  auto code = corral.process().wait_exit(drain + 2s);
  ASSERT_TRUE(code) << "corral did not exit within shutdown_delay + timeouts.drain";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(Clock::now() - sigterm_at, delay + drain);
}

TEST(ShutdownDelay, ASecondSignalCutsTheDelayShort) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.extra = "shutdown_delay: 30s\n";
  Corral corral(cfg);

  corral.process().terminate();
  bool not_ready = false;
  const auto deadline = Clock::now() + 2s;
  while (!not_ready && Clock::now() < deadline) not_ready = ready_is(corral.admin_port(), 503);
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(http_get(corral.port(), "/").body(), "a");
  corral.process().signal(SIGINT);
  auto code = corral.process().wait_exit(5s);
  ASSERT_TRUE(code) << "a second signal did not end the delay";
  EXPECT_EQ(*code, 0);
}

TEST(ShutdownDelay, WithoutItSigtermDrainsAtOnce) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  const auto start = Clock::now();
  corral.process().terminate();
  auto code = corral.process().wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_FALSE(corral.process().has_line(std::regex("shutdown delay")));
}

TEST(ShutdownDelay, ClusterModeKeepsItsWorkersServingThroughTheDelay) {
  ClusterConfig cfg;
  cfg.extra = "shutdown_delay: 2s\n";
  Cluster cluster(cfg);
  const auto pids = cluster.worker_pids();

  const auto sigterm_at = Clock::now();
  cluster.master().terminate();
  bool not_ready = false;
  while (!not_ready && Clock::now() < sigterm_at + 1s)
    not_ready = ready_is(cluster.admin_port(), 503);
  EXPECT_TRUE(not_ready) << "/readyz did not turn 503 within 1 s of SIGTERM";
  // Both workers still answer, on new connections, while not ready.
  std::set<int> slots;
  for (int i = 0; i < 6 && Clock::now() < sigterm_at + 1500ms; ++i) {
    auto res = http_get(cluster.port(), "/");
    EXPECT_EQ(res.result_int(), 200) << res;
    if (res.result_int() == 200)
      slots.insert(static_cast<int>(parse_json_object(res.body()).at("slot").as_int64()));
  }
  EXPECT_EQ(slots.size(), 2u);
  EXPECT_EQ(cluster.worker_pids(), pids) << "a worker was stopped during the delay";

  auto code = cluster.master().wait_exit(2s + 5s + 3s);
  ASSERT_TRUE(code) << "corral did not exit within delay + drain + the workers' stop";
  EXPECT_EQ(*code, 0);
  EXPECT_GE(Clock::now(), sigterm_at + 2s - 100ms) << "the delay was not kept";
}

}  // namespace
}  // namespace corral::test
