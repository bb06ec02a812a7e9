// A client connection between requests: it holds no session, yet its deadlines, the drain and
// requests that arrive together (pipelined, or a header split across reads) behave as before.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

// Plain keep-alive connections, each with one request answered, then held open and idle.
class IdleClients {
 public:
  explicit IdleClients(std::uint16_t port) : port_(port) {}
  IdleClients(const IdleClients&) = delete;
  IdleClients& operator=(const IdleClients&) = delete;
  ~IdleClients() {
    for (int fd : fds_) ::close(fd);
  }

  // Opens `n` connections `parallel` at a time: each group connects, sends its requests, then
  // reads their answers, so the proxy serves `parallel` requests at once, as in a burst.
  void open(std::size_t n, std::size_t parallel) {
    const std::string request = "GET / HTTP/1.1\r\nHost: idle\r\n\r\n";
    for (std::size_t done = 0; done < n;) {
      const std::size_t group = std::min(parallel, n - done);
      const std::size_t first = fds_.size();
      for (std::size_t i = 0; i < group; ++i) fds_.push_back(connect_one());
      for (std::size_t i = first; i < fds_.size(); ++i)
        ASSERT_EQ(::send(fds_[i], request.data(), request.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(request.size()));
      for (std::size_t i = first; i < fds_.size(); ++i) ASSERT_NO_FATAL_FAILURE(read_answer(fds_[i]));
      done += group;
    }
  }
  // One more request on connection `i`, answered on it.
  void request(std::size_t i) {
    const std::string request = "GET / HTTP/1.1\r\nHost: idle\r\n\r\n";
    ASSERT_EQ(::send(fds_[i], request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    read_answer(fds_[i]);
  }
  std::size_t size() const { return fds_.size(); }

 private:
  int connect_one() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw HarnessError("socket: " + std::string(std::strerror(errno)));
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      throw HarnessError("connect: " + std::string(std::strerror(errno)));
    }
    return fd;
  }
  // The backend answers "a": the answer is complete once its one-byte body follows the head.
  static void read_answer(int fd) {
    std::string got;
    char buf[1024];
    for (;;) {
      const auto end = got.find("\r\n\r\n");
      if (end != std::string::npos && got.size() >= end + 5) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      ASSERT_GT(n, 0) << "the connection closed or timed out before its answer: " << got;
      got.append(buf, static_cast<std::size_t>(n));
    }
    ASSERT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  }

  std::uint16_t port_;
  std::vector<int> fds_;
};

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

// What an idle keep-alive connection costs: its own few hundred bytes, not what the burst that
// opened it used. Measured as proxy_bench.sh's idle test is (connections opened 200 at a time,
// one request each), over connections opened after a warm-up, once the proxy thread has given
// back what the burst left (it trims twice a second).
TEST(IdleConnection, AnIdleKeepAliveConnectionCostsLittleMemory) {
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  const std::size_t n = std::min<std::size_t>(2000, files.rlim_max > 300 ? files.rlim_max - 300 : 0);
  ASSERT_GE(n, 1000u) << "too few file descriptors allowed (" << files.rlim_max << ")";
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);

  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.timeouts["idle"] = "120s";
  cfg.limits["max_connections"] = std::to_string(n + 500);
  Corral corral(cfg);
  {
    IdleClients warm(corral.port());
    ASSERT_NO_FATAL_FAILURE(warm.open(200, 200));
  }
  std::this_thread::sleep_for(1500ms);
  const std::uint64_t before = group_rss_bytes(corral.process());
  IdleClients held(corral.port());
  ASSERT_NO_FATAL_FAILURE(held.open(n, 200));
  std::this_thread::sleep_for(1500ms);
  const std::uint64_t after = group_rss_bytes(corral.process());
  const std::uint64_t per_connection = after > before ? (after - before) / n : 0;
  RecordProperty("idle_bytes_per_connection", std::to_string(per_connection));
  std::cout << "RSS per idle keep-alive connection: " << per_connection << " B\n";
  // 530-650 B measured on a 2-CPU VM on 2026-12-03 (890-1,060 B before the blocks of busy
  // connections were kept apart from the idle ones'). A sanitizer build's allocations are
  // larger: its pass sets its own bound.
  const std::uint64_t limit = env_u64("CORRAL_IT_IDLE_BYTES", 900);
  EXPECT_LE(per_connection, limit) << "RSS " << before << " B -> " << after << " B over " << n
                                   << " idle connections";
  // The connections are still served after their idle wait.
  for (std::size_t i = 0; i < held.size(); i += 250) {
    SCOPED_TRACE("connection " + std::to_string(i));
    ASSERT_NO_FATAL_FAILURE(held.request(i));
  }
}

}  // namespace
}  // namespace corral::test
