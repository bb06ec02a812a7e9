// sticky.store: redis end to end: two corral instances in front of the same session_app.js
// upstreams share the pins learned by either, through a real redis-server.
#include <gtest/gtest.h>

#include <random>

#include "tests/integration/cluster_harness.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/redis_server.hpp"
#include "tests/integration/session_app.hpp"

namespace corral::test {
namespace {

// A corral in front of `apps`, learn mode with the pins in `redis`. The command timeout is long
// enough that a busy test machine does not turn a slow answer into a failed lookup.
std::unique_ptr<Corral> corral_with_store(const Apps& apps, const RedisServer& redis,
                                          const std::string& command_timeout = "2s",
                                          const std::string& more = {}) {
  CorralConfig c;
  apps.add_to(c);
  c.threads = "2";
  c.balance = "sticky";
  c.extra = "sticky:\n  cookie: connect.sid\n  fallback: round_robin\n  idle_ttl: 10m\n"
            "  store: redis\n  redis: " +
            redis.url() + "\n  timeouts: { command: " + command_timeout + " }\n" + more;
  return std::make_unique<Corral>(c);
}

double store_ops(Corral& corral, const std::string& op, const std::string& result) {
  return corral.metric("corral_sticky_store_operations_total", {{"op", op}, {"result", result}})
      .value_or(-1);
}

std::vector<std::string> pin_keys(RedisServer& redis) {
  std::vector<std::string> keys;
  std::istringstream lines(redis.cli({"KEYS", "corral:affinity:*"}));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) keys.push_back(line);
  return keys;
}

// Two instances, a and b, in front of the same `n` apps and sharing one Redis.
struct TwoInstances {
  explicit TwoInstances(int n)
      : apps(n),
        a(corral_with_store(apps, redis)),
        b(corral_with_store(apps, redis)),
        via_a(a->port()),
        via_b(b->port()) {}
  RedisServer redis;
  Apps apps;
  std::unique_ptr<Corral> a, b;
  HttpClient via_a, via_b;
};

TEST(StickyStore, InstancesShareLearnedPins) {
  REQUIRE_REDIS();
  TwoInstances two(3);
  auto& [redis, apps, a, b, via_a, via_b] = two;
  User alice = log_in(via_a, "alice");

  // The pin is in Redis under the cookie's fingerprint (never the cookie), with idle_ttl.
  ASSERT_TRUE(eventually([&] { return pin_keys(redis).size() == 1; }, 5s));
  const std::string key = pin_keys(redis).front();
  EXPECT_EQ(key.size(), std::string("corral:affinity:").size() + 16);
  EXPECT_EQ(key.find(alice.cookie.substr(alice.cookie.find('=') + 1, 10)), std::string::npos);
  const long ttl = std::stol(redis.cli({"PTTL", key}));
  EXPECT_GT(ttl, 9 * 60 * 1000);
  EXPECT_LE(ttl, 10 * 60 * 1000);

  // Instance b never saw the login; round robin alone would send two requests in three to an
  // app that does not hold the session.
  for (int i = 0; i < 30; ++i) {
    if (i % 3 == 0) via_b.close();
    Answer r = ask(via_b, "/me", alice.cookie);
    ASSERT_EQ(r.status, 200) << "request " << i << " via b: " << r.body;
    EXPECT_EQ(r.user, "alice");
    EXPECT_EQ(r.name, alice.name);
  }
  // b asked Redis once and then served the pin from its own table.
  EXPECT_EQ(store_ops(*b, "lookup", "found"), 1);
  EXPECT_EQ(b->metric("corral_sticky_table_entries").value_or(-1), 1);
  EXPECT_EQ(b->metric("corral_sticky_rehomed_total").value_or(-1), 0);
  EXPECT_EQ(b->metric("corral_sticky_store_connections_up").value_or(-1), 2);
}

TEST(StickyStore, ClientCookiesNeverWriteToTheStore) {
  REQUIRE_REDIS();
  RedisServer redis;
  Apps apps(2);
  auto a = corral_with_store(apps, redis);
  HttpClient client(a->port());
  User alice = log_in(client, "alice");
  ASSERT_TRUE(eventually([&] { return pin_keys(redis).size() == 1; }, 5s));
  std::mt19937_64 random(7);
  for (int i = 0; i < 300; ++i) {
    Answer r = ask(client, "/me", "connect.sid=s%3A" + std::to_string(random()) + ".forged");
    ASSERT_EQ(r.status, 401);
  }
  EXPECT_EQ(a->metric("corral_sticky_table_entries").value_or(-1), 1);
  EXPECT_EQ(store_ops(*a, "lookup", "absent"), 300);
  EXPECT_EQ(store_ops(*a, "save", "ok"), 1);
  EXPECT_EQ(redis.cli({"DBSIZE"}), "1");
  EXPECT_EQ(ask(client, "/me", alice.cookie).user, "alice");
}

TEST(StickyStore, LogoutOnOneInstanceDeletesThePin) {
  REQUIRE_REDIS();
  TwoInstances two(2);
  auto& [redis, apps, a, b, via_a, via_b] = two;
  User alice = log_in(via_a, "alice");
  ASSERT_TRUE(eventually([&] { return pin_keys(redis).size() == 1; }, 5s));
  Answer out = ask(via_b, "/logout", alice.cookie);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.name, alice.name);
  EXPECT_TRUE(eventually([&] { return pin_keys(redis).empty(); }, 5s)) << "the pin outlived the "
                                                                          "logout";
  EXPECT_EQ(store_ops(*b, "erase", "ok"), 1);
}

TEST(StickyStore, AnInstanceFollowsASessionAnotherReHomed) {
  REQUIRE_REDIS();
  TwoInstances two(3);
  auto& [redis, apps, a, b, via_a, via_b] = two;
  // Users on app0, known to both instances.
  std::vector<User> users;
  for (int i = 0; i < 30 && users.size() < 4; ++i) {
    User u = log_in(via_a, "u" + std::to_string(i));
    if (u.name == "app0") users.push_back(u);
  }
  ASSERT_EQ(users.size(), 4u);
  for (const auto& u : users) ASSERT_EQ(ask(via_b, "/me", u.cookie).name, "app0");

  apps.kill(0);
  // a re-homes each session (its in-memory login is lost with app0) and saves the new pin.
  std::vector<std::string> moved;
  for (const auto& u : users) {
    Answer r = ask(via_a, "/", u.cookie);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_NE(r.name, "app0");
    moved.push_back(r.name);
  }
  EXPECT_EQ(a->metric("corral_sticky_rehomed_total").value_or(-1), 4);
  ASSERT_TRUE(eventually([&] { return store_ops(*a, "save", "ok") >= 4 + 4; }, 5s));
  // b still pins them to app0: it finds app0 gone, asks Redis and follows a's choice instead of
  // placing each session on its own.
  for (std::size_t i = 0; i < users.size(); ++i) {
    Answer r = ask(via_b, "/", users[i].cookie);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.name, moved[i]) << "user " << i;
  }
  EXPECT_EQ(b->metric("corral_sticky_rehomed_total").value_or(-1), 0);
  EXPECT_GE(store_ops(*b, "lookup", "found"), 4 + 4);
}

TEST(StickyStore, RedisDownKeepsServingFromTheTable) {
  REQUIRE_REDIS();
  RedisServer redis;
  Apps apps(3);
  auto a = corral_with_store(apps, redis, "100ms");
  HttpClient client(a->port());
  redis.stop();
  // Logins while the store is down are placed and learned as ever; only sharing waits.
  User alice = log_in(client, "alice");
  for (int i = 0; i < 10; ++i) {
    Answer r = ask(client, "/me", alice.cookie);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.user, "alice");
  }
  EXPECT_GE(store_ops(*a, "any", "failed"), 1);
  redis.start();
  ASSERT_TRUE(eventually(
      [&] { return a->metric("corral_sticky_store_connections_up").value_or(0) == 2; }, 10s));
  User bob = log_in(client, "bob");
  EXPECT_TRUE(eventually([&] { return pin_keys(redis).size() == 1; }, 5s))
      << "a login after Redis came back was not saved";
  EXPECT_EQ(ask(client, "/me", bob.cookie).user, "bob");
}

TEST(StickyStore, PinsTravelOverRedissToo) {
  REQUIRE_REDIS_TLS();
  TempDir dir;
  auto certs = make_test_certificates(dir.path());
  RedisServer redis(certs);
  Apps apps(3);
  const std::string tls = "  tls: { ca: \"" + certs.ca + "\" }\n";
  auto a = corral_with_store(apps, redis, "2s", tls);
  auto b = corral_with_store(apps, redis, "2s", tls);
  ASSERT_TRUE(eventually(
      [&] { return b->metric("corral_sticky_store_connections_up").value_or(0) == 2; }, 10s));
  HttpClient via_a(a->port());
  HttpClient via_b(b->port());
  User alice = log_in(via_a, "alice");
  ASSERT_TRUE(eventually([&] { return pin_keys(redis).size() == 1; }, 5s));
  for (int i = 0; i < 10; ++i) {
    via_b.close();
    Answer r = ask(via_b, "/me", alice.cookie);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.name, alice.name);
  }
  EXPECT_EQ(store_ops(*b, "lookup", "found"), 1);
}

}  // namespace
}  // namespace corral::test
