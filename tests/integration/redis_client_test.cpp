// The Redis client on its own (session/redis_client.hpp) against a real redis-server: one
// pipelined connection, answers in order, timeouts, reconnects.
#include "session/redis_client.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <array>
#include <functional>

#include "tests/integration/harness.hpp"
#include "tests/integration/redis_server.hpp"

namespace corral::test {
namespace {

using session::RedisClient;
using session::RedisErrc;
using session::RedisReply;

// Runs `ioc` until `done()` or the timeout; returns done().
bool run_until(asio::io_context& ioc, const std::function<bool()>& done, Millis timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    ioc.restart();
    ioc.run_for(10ms);
  }
  return done();
}

RedisClient::Options options_for(const RedisServer& redis) {
  RedisClient::Options o;
  o.target.host = "127.0.0.1";
  o.target.port = redis.port();
  o.connect_host = "127.0.0.1";
  o.connect_timeout = 500ms;
  o.command_timeout = 200ms;
  return o;
}

std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

TEST(RedisClient, CommandsBeforeTheConnectionIsReadyFailAtOnce) {
  asio::io_context ioc;
  RedisClient::Options o;
  o.target.host = "127.0.0.1";
  o.target.port = 1;
  o.connect_host = "127.0.0.1";
  RedisClient client(ioc, o);
  std::array<std::string_view, 1> ping{"PING"};
  boost::system::error_code got;
  bool done = false;
  client.async_command(ping, [&](boost::system::error_code ec, RedisReply) {
    got = ec;
    done = true;
  });
  EXPECT_FALSE(done) << "the handler never runs inside the call";
  ASSERT_TRUE(run_until(
      ioc, [&] { return done; }, 1s));
  EXPECT_EQ(got, RedisErrc::not_connected);
}

TEST(RedisClient, PipelinesOnOneConnectionAndAnswersInOrder) {
  REQUIRE_REDIS();
  RedisServer redis;
  asio::io_context ioc;
  RedisClient client(ioc, options_for(redis));
  client.start();
  ASSERT_TRUE(run_until(ioc, [&] { return client.ready(); }));

  constexpr int n = 2000;
  std::vector<long long> answers;
  std::array<std::string_view, 2> incr{"INCR", "counter"};
  for (int i = 0; i < n; ++i)
    client.async_command(incr, [&](boost::system::error_code ec, RedisReply r) {
      EXPECT_FALSE(ec) << ec.message();
      answers.push_back(r.integer);
    });
  ASSERT_TRUE(run_until(ioc, [&] { return answers.size() == n; }));
  for (int i = 0; i < n; ++i) ASSERT_EQ(answers[i], i + 1);
  // One connection for all of them: redis-cli's own and the client's.
  auto list = redis.cli({"CLIENT", "LIST"});
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n') + 1, 2) << list;
  EXPECT_EQ(client.stats().answered.load(), static_cast<std::uint64_t>(n + 1));  // + the PING
}

TEST(RedisClient, ASilentServerTimesCommandsOutThenTheClientReconnects) {
  REQUIRE_REDIS();
  RedisServer redis;
  asio::io_context ioc;
  RedisClient client(ioc, options_for(redis));
  client.start();
  ASSERT_TRUE(run_until(ioc, [&] { return client.ready(); }));

  redis.pause();
  std::array<std::string_view, 1> ping{"PING"};
  boost::system::error_code got;
  bool done = false;
  auto t0 = std::chrono::steady_clock::now();
  client.async_command(ping, [&](boost::system::error_code ec, RedisReply) {
    got = ec;
    done = true;
  });
  ASSERT_TRUE(run_until(
      ioc, [&] { return done; }, 2s));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(got, RedisErrc::timed_out);
  EXPECT_GE(took, 180ms);
  EXPECT_LT(took, 600ms);
  // Silent for long enough, the connection is given up.
  EXPECT_TRUE(run_until(
      ioc, [&] { return !client.ready(); }, 3s));
  redis.resume();
  EXPECT_TRUE(run_until(
      ioc, [&] { return client.ready(); }, 3s));
  EXPECT_GE(client.stats().reconnects.load(), 1u);
}

TEST(RedisClient, ReconnectsLeakNoDescriptor) {
  REQUIRE_REDIS();
  RedisServer redis;
  asio::io_context ioc;
  RedisClient client(ioc, options_for(redis));
  client.start();
  ASSERT_TRUE(run_until(ioc, [&] { return client.ready(); }));
  auto fds = open_fds();
  for (int i = 0; i < 3; ++i) {
    redis.stop();
    ASSERT_TRUE(run_until(
        ioc, [&] { return !client.ready(); }, 3s));
    redis.start();
    ASSERT_TRUE(run_until(
        ioc, [&] { return client.ready(); }, 3s))
        << "round " << i;
  }
  EXPECT_EQ(open_fds(), fds);
}

}  // namespace
}  // namespace corral::test
