// Sticky sessions end to end: the real corral binary in front of data/session_app.js, an app
// that keeps its login sessions in process memory exactly as Express with express-session's
// default MemoryStore does (same cookie name, format and logout), written on node's http module
// so that the tests need no npm install.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <random>
#include <set>

#include "session/affinity_cookie.hpp"
#include "tests/integration/cluster_harness.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/session_app.hpp"

namespace corral::test {
namespace {

double metric(std::uint16_t admin_port, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  return prometheus_value(http_get(admin_port, "/metrics").body(), name, labels).value_or(-1);
}

ClusterConfig sticky_cluster(const std::string& sticky, unsigned count = 2) {
  ClusterConfig c;
  c.count = count;
  c.threads = "2";  // pins are learned on one thread and looked up on the other
  c.script = "session_app.js";
  c.extra = "balance: sticky\nsticky:\n" + sticky;
  return c;
}

constexpr const char* learn_rr = "  cookie: connect.sid\n  mode: learn\n  fallback: round_robin\n";

// Kills the worker in `slot` and waits until the proxy has taken the slot out of selection.
void kill_worker_and_wait_down(Cluster& cluster, int slot) {
  pid_t pid = cluster.worker_pids().at(static_cast<std::size_t>(slot));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const std::string upstream = "slot" + std::to_string(slot);
  ASSERT_TRUE(eventually(
      [&] {
        return metric(cluster.admin_port(), "corral_upstream_up", {{"upstream", upstream}}) == 0;
      },
      5s))
      << "the proxy still routes to " << upstream;
}

TEST(StickyLearn, LoggedInUserStaysLoggedInAcross100Requests) {
  Cluster cluster(sticky_cluster(learn_rr, 3));
  HttpClient client(cluster.port());
  User alice = log_in(client, "alice");
  for (int i = 0; i < 100; ++i) {
    // Every fourth request on a new connection: stickiness must not depend on the connection.
    if (i % 4 == 0) client.close();
    Answer a = ask(client, "/me", alice.cookie);
    ASSERT_EQ(a.status, 200) << "request " << i << ": " << a.body;
    EXPECT_EQ(a.user, "alice");
    EXPECT_EQ(a.slot, alice.slot);
  }
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_table_entries"), 1);
  EXPECT_GE(metric(cluster.admin_port(), "corral_sticky_hits_total"), 100);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_sessions",
                   {{"upstream", "slot" + std::to_string(alice.slot)}}),
            1);
  // corral status shows the sessions per slot.
  EXPECT_TRUE(eventually(
      [&] {
        auto slots = cluster.slots();
        auto it = slots.at(static_cast<std::size_t>(alice.slot)).if_contains("sessions");
        return it && it->to_number<int>() == 1;
      },
      5s));
  auto table = cluster.cli({"status"});
  EXPECT_NE(table.out.find("sessions"), std::string::npos) << table.out;

  // Logout deletes the cookie: the pin goes with it.
  Answer out = ask(client, "/logout", alice.cookie);
  EXPECT_EQ(out.slot, alice.slot);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_table_entries"), 0);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_forgotten_total"), 1);
}

TEST(StickyLearn, RoundRobinLosesTheSameUser) {
  ClusterConfig c;
  c.count = 3;
  c.threads = "2";
  c.script = "session_app.js";
  c.extra = "balance: round_robin\n";
  Cluster cluster(c);
  HttpClient client(cluster.port());
  User alice = log_in(client, "alice");
  int logged_out = 0;
  for (int i = 0; i < 100; ++i) {
    if (i % 4 == 0) client.close();
    Answer a = ask(client, "/me", alice.cookie);
    if (a.status == 401) ++logged_out;
  }
  // Without stickiness two requests in three land on a worker that never saw the session.
  EXPECT_GT(logged_out, 30);
}

TEST(StickyLearn, RandomClientCookiesDoNotGrowTheTable) {
  Cluster cluster(sticky_cluster(learn_rr));
  HttpClient client(cluster.port());
  User alice = log_in(client, "alice");
  std::mt19937_64 random(42);
  for (int i = 0; i < 2000; ++i) {
    Answer a = ask(client, "/me", "connect.sid=s%3A" + std::to_string(random()) + ".forged");
    ASSERT_EQ(a.status, 401);
  }
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_table_entries"), 1);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_learned_total"), 1);
  EXPECT_GE(metric(cluster.admin_port(), "corral_sticky_table_misses_total"), 2000);
  EXPECT_EQ(ask(client, "/me", alice.cookie).user, "alice");
}

TEST(StickyLearn, OneKeepAliveConnectionCarriesTwoUsers) {
  Cluster cluster(sticky_cluster(learn_rr));
  HttpClient client(cluster.port());
  User alice = log_in(client, "alice");
  User bob = log_in(client, "bob");
  for (int i = 0; i < 5 && bob.slot == alice.slot; ++i) bob = log_in(client, "bob");
  ASSERT_NE(alice.slot, bob.slot) << "round robin placed both sessions on one slot";
  const int connects = client.connects();
  for (int i = 0; i < 20; ++i) {
    const User& u = i % 2 ? bob : alice;
    Answer a = ask(client, "/me", u.cookie);
    ASSERT_EQ(a.status, 200) << "request " << i << ": " << a.body;
    EXPECT_EQ(a.user, i % 2 ? "bob" : "alice");
    EXPECT_EQ(a.slot, u.slot);
  }
  EXPECT_EQ(client.connects(), connects) << "the requests did not share one connection";
}

TEST(StickyLearn, WebSocketUpgradeLandsOnThePinnedSlot) {
  Cluster cluster(sticky_cluster(learn_rr, 3));
  HttpClient login(cluster.port());
  User alice = log_in(login, "alice");
  for (int i = 0; i < 6; ++i) {
    HttpClient ws(cluster.port());
    ws.connect();
    ASSERT_FALSE(
        ws.send_raw("GET /socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: " +
                    alice.cookie + "\r\n\r\n"));
    beast::error_code ec;
    std::string head = ws.read_until("\r\n\r\n", ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(raw_status(head), 101) << head;
    std::string frame = ws.read_exactly(2, ec);
    ASSERT_FALSE(ec);
    std::string text = ws.read_exactly(static_cast<unsigned char>(frame[1]), ec);
    ASSERT_FALSE(ec);
    auto o = parse_json_object(text);
    EXPECT_EQ(o.at("who").as_object().at("slot").to_number<int>(), alice.slot);
    EXPECT_EQ(o.at("user"), "alice");
  }
}

TEST(StickyLearn, FailoverRehomesWhenThePinnedWorkerDies) {
  ClusterConfig c = sticky_cluster(std::string(learn_rr) + "  on_unavailable: failover\n");
  c.backoff = "3s";  // the slot stays down while the test looks
  c.max_backoff = "3s";
  Cluster cluster(c);
  HttpClient client(cluster.port());
  User alice = log_in(client, "alice");
  kill_worker_and_wait_down(cluster, alice.slot);
  // Placed anew on the other slot, which never saw the session: log in again (expected with
  // sessions in process memory). The pin moved, so she stays there.
  Answer a = ask(client, "/me", alice.cookie);
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.slot, alice.slot);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_rehomed_total"), 1);
  Answer again = ask(client, "/me", alice.cookie);
  EXPECT_EQ(again.slot, a.slot);
  User back = log_in(client, "alice");
  EXPECT_EQ(back.slot, a.slot);  // a re-homed request re-learned its pin
  for (int i = 0; i < 10; ++i) EXPECT_EQ(ask(client, "/me", back.cookie).user, "alice");
}

TEST(StickyLearn, HoldWaitsForTheRestartedSlot) {
  ClusterConfig c =
      sticky_cluster(std::string(learn_rr) + "  on_unavailable: hold\n  hold_timeout: 15s\n");
  c.backoff = "1s";
  c.max_backoff = "1s";
  Cluster cluster(c);
  HttpClient client(cluster.port());
  client.set_timeout(20s);
  User alice = log_in(client, "alice");
  Answer before = ask(client, "/me", alice.cookie);
  kill_worker_and_wait_down(cluster, alice.slot);
  Answer a = ask(client, "/me", alice.cookie);
  // Served by the same slot's new worker (which lost the in-memory session).
  EXPECT_EQ(a.slot, alice.slot);
  EXPECT_GT(a.generation, before.generation);
  EXPECT_NE(a.pid, before.pid);
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_held_total"), 1);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_hold_served_total"), 1);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_rehomed_total"), 0);
}

TEST(StickyLearn, HoldServesARequestSentTheMomentThePinnedWorkerDies) {
  ClusterConfig c =
      sticky_cluster(std::string(learn_rr) + "  on_unavailable: hold\n  hold_timeout: 15s\n");
  c.backoff = "500ms";
  c.max_backoff = "500ms";
  Cluster cluster(c);
  HttpClient client(cluster.port());
  client.set_timeout(20s);
  User alice = log_in(client, "alice");
  Answer before = ask(client, "/me", alice.cookie);
  pid_t pid = cluster.worker_pids().at(static_cast<std::size_t>(alice.slot));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // No wait: the proxy may still think the worker is up, find its port closed, and must hold
  // rather than re-home.
  client.close();
  Answer a = ask(client, "/me", alice.cookie);
  EXPECT_EQ(a.slot, alice.slot);
  EXPECT_GT(a.generation, before.generation);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_rehomed_total"), 0);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_hold_served_total"), 1)
      << http_get(cluster.admin_port(), "/metrics").body();
}

TEST(StickyLearn, StrictAnswers503WhileThePinnedWorkerIsDown) {
  ClusterConfig c = sticky_cluster(std::string(learn_rr) + "  on_unavailable: strict\n");
  c.backoff = "3s";
  c.max_backoff = "3s";
  Cluster cluster(c);
  HttpClient client(cluster.port());
  User alice = log_in(client, "alice");
  kill_worker_and_wait_down(cluster, alice.slot);
  for (int i = 0; i < 3; ++i) {
    Answer a = ask(client, "/me", alice.cookie);
    EXPECT_EQ(a.status, 503);
    EXPECT_NE(a.body.find("pinned"), std::string::npos) << a.body;
  }
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_strict_rejections_total"), 3);
  // New sessions are still placed on the slot that is up.
  EXPECT_EQ(ask(client, "/me").status, 401);
}

TEST(StickyLearn, AffinitySurvivesReloadConfig) {
  Cluster cluster(sticky_cluster(learn_rr, 3));
  HttpClient client(cluster.port());
  std::vector<User> users;
  for (int i = 0; i < 6; ++i) users.push_back(log_in(client, "user" + std::to_string(i)));
  const pid_t before = cluster.proxy_pid();
  RunResult reload = cluster.cli({"reload", "--config"});
  ASSERT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  ASSERT_NE(cluster.proxy_pid(), before);
  for (int round = 0; round < 5; ++round) {
    for (std::size_t i = 0; i < users.size(); ++i) {
      HttpClient fresh(cluster.port());  // a new connection reaches the new generation
      Answer a = ask(fresh, "/me", users[i].cookie);
      EXPECT_EQ(a.status, 200) << "user " << i << " lost the session after the reload: " << a.body;
      EXPECT_EQ(a.slot, users[i].slot);
    }
  }
}

TEST(StickyLearn, AffinitySurvivesAProxyRestartByTheMaster) {
  Cluster cluster(sticky_cluster(learn_rr, 3));
  HttpClient client(cluster.port());
  std::vector<User> users;
  for (int i = 0; i < 6; ++i) users.push_back(log_in(client, "user" + std::to_string(i)));
  const pid_t proxy = cluster.proxy_pid();
  // The proxy writes a snapshot within a few seconds of learning; the master keeps it.
  const auto snapshot = std::filesystem::temp_directory_path() /
                        ("corral-affinity-" + std::to_string(proxy) + ".snap");
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(snapshot); }, 10s));
  ASSERT_EQ(::kill(proxy, SIGKILL), 0);
  ASSERT_TRUE(eventually(
      [&] {
        try {
          pid_t now = cluster.proxy_pid();
          return now != 0 && now != proxy && http_get(cluster.port(), "/", 2s).result_int() == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      15s));
  for (std::size_t i = 0; i < users.size(); ++i) {
    HttpClient fresh(cluster.port());
    Answer a = ask(fresh, "/me", users[i].cookie);
    EXPECT_EQ(a.status, 200) << "user " << i << ": " << a.body;
    EXPECT_EQ(a.slot, users[i].slot);
  }
}

constexpr const char* insert_key = "0123456789abcdef0123456789abcdef";

TEST(StickyInsert, SignedCookiePinsAndIsNeverForwarded) {
  Apps apps(3);
  CorralConfig c;
  apps.add_to(c);
  c.threads = "2";
  c.balance = "sticky";
  c.extra = std::string("sticky: { mode: insert, key: \"") + insert_key +
            "\", fallback: round_robin, max_age: 1h }\n";
  Corral corral(c);
  HttpClient client(corral.port());
  Answer first = ask(client, "/", "a=1");
  const std::string pin = cookie_pair(first.set_cookie, "corral_affinity");
  ASSERT_FALSE(pin.empty()) << first.set_cookie;
  EXPECT_NE(first.set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(first.set_cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(first.cookie_seen, "a=1");
  for (int i = 0; i < 20; ++i) {
    if (i % 3 == 0) client.close();
    std::string cookie = i % 2 ? "a=1; " + pin : pin + "; a=1";
    Answer a = ask(client, "/", cookie);
    EXPECT_EQ(a.name, first.name);
    EXPECT_EQ(a.cookie_seen, "a=1") << "the app saw corral's cookie";
    EXPECT_TRUE(a.set_cookie.empty()) << "re-issued a fresh cookie: " << a.set_cookie;
  }
  Answer only = ask(client, "/", pin);
  EXPECT_EQ(only.cookie_seen, "");
  EXPECT_EQ(only.name, first.name);
}

TEST(StickyInsert, TamperedOrExpiredCookieIsIgnored) {
  Apps apps(3);
  CorralConfig c;
  apps.add_to(c);
  c.balance = "sticky";
  c.extra =
      std::string("sticky: { mode: insert, key: \"") + insert_key + "\", fallback: round_robin }\n";
  Corral corral(c);
  HttpClient client(corral.port());
  // A cookie for upstream 2 as another corral instance with the same key would issue it.
  session::AffinityCookie signer{std::string_view(insert_key)};
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const std::string valid = "corral_affinity=" + std::string(signer.value(2, now + 3600).view());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ask(client, "/", valid).name, "app2");

  // The same cookie pointing at upstream 1 instead: the MAC no longer matches.
  std::string forged = valid;
  forged[std::string("corral_affinity=").size()] = '1';
  int on_other = 0;
  for (int i = 0; i < 6; ++i) {
    Answer a = ask(client, "/", forged);
    EXPECT_NE(cookie_pair(a.set_cookie, "corral_affinity"), "") << "no fresh cookie issued";
    EXPECT_NE(cookie_pair(a.set_cookie, "corral_affinity"), forged);
    on_other += a.name != "app1";
  }
  EXPECT_GT(on_other, 0) << "the forged pin was honoured";
  EXPECT_EQ(corral.metric("corral_sticky_cookies_rejected_total").value_or(0), 6);

  const std::string expired = "corral_affinity=" + std::string(signer.value(2, now - 5).view());
  int elsewhere = 0;
  for (int i = 0; i < 6; ++i) elsewhere += ask(client, "/", expired).name != "app2";
  EXPECT_GT(elsewhere, 0) << "the expired pin was honoured";
}

TEST(StickyInsert, FailoverReissuesTheCookieForTheNewSlot) {
  ClusterConfig c = sticky_cluster(std::string("  mode: insert\n  key: \"") + insert_key +
                                   "\"\n  fallback: round_robin\n");
  c.backoff = "3s";
  c.max_backoff = "3s";
  Cluster cluster(c);
  HttpClient client(cluster.port());
  Answer first = ask(client, "/");
  const std::string pin = cookie_pair(first.set_cookie, "corral_affinity");
  ASSERT_FALSE(pin.empty()) << first.set_cookie;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ask(client, "/", pin).slot, first.slot);
  kill_worker_and_wait_down(cluster, first.slot);
  Answer moved = ask(client, "/", pin);
  EXPECT_NE(moved.slot, first.slot);
  const std::string repin = cookie_pair(moved.set_cookie, "corral_affinity");
  ASSERT_FALSE(repin.empty()) << "a re-homed session gets a cookie naming its new slot";
  EXPECT_EQ(repin.substr(0, repin.find('.')), "corral_affinity=" + std::to_string(moved.slot));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ask(client, "/", repin).slot, moved.slot);
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_rehomed_total"), 1);
}

TEST(StickyInsert, WithoutAKeyTheMastersRandomKeyOutlivesAProxyReload) {
  Cluster cluster(sticky_cluster("  mode: insert\n  fallback: round_robin\n"));
  cluster.master().wait_for_line(std::regex("insert mode has no key"), 5s);
  HttpClient client(cluster.port());
  Answer first = ask(client, "/");
  const std::string pin = cookie_pair(first.set_cookie, "corral_affinity");
  ASSERT_FALSE(pin.empty()) << first.set_cookie;
  RunResult reload = cluster.cli({"reload", "--config"});
  ASSERT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  // The next proxy generation checks the cookie with the same key: every request stays on its
  // slot, and no new cookie is issued.
  HttpClient after(cluster.port());
  for (int i = 0; i < 6; ++i) {
    Answer a = ask(after, "/", pin);
    EXPECT_EQ(a.slot, first.slot);
    EXPECT_TRUE(cookie_pair(a.set_cookie, "corral_affinity").empty()) << a.set_cookie;
  }
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_cookies_rejected_total"), 0);
}

// One socket.io 4 client's start over engine.io long polling, as a browser does it: the
// handshake, the connect packet POSTed, then a poll for the answer, each on a new connection
// (browsers spread polls over their connection pool). The browser keeps and sends back every
// cookie the responses set. Returns the statuses, and the text of what went wrong if anything.
struct PollingRun {
  bool ok = false;
  std::string trouble;
};

PollingRun socket_io_start(std::uint16_t port) {
  std::map<std::string, std::string> jar;
  auto cookies = [&] {
    std::string header;
    for (const auto& [name, value] : jar) header += (header.empty() ? "" : "; ") + name + "=" + value;
    return header;
  };
  auto keep = [&](const http::response<http::string_body>& res) {
    for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
      std::string pair(it->value().substr(0, it->value().find(';')));
      auto eq = pair.find('=');
      jar[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  };
  auto send = [&](http::verb verb, const std::string& target, const std::string& body) {
    HttpClient client(port);
    http::request<http::string_body> req{verb, target, 11};
    if (!jar.empty()) req.set(http::field::cookie, cookies());
    if (verb == http::verb::post) {
      req.set(http::field::content_type, "text/plain;charset=UTF-8");
      req.body() = body;
    }
    auto res = client.request(std::move(req));
    keep(res);
    return res;
  };
  const std::string base = "/socket.io/?EIO=4&transport=polling";
  auto open = send(http::verb::get, base + "&t=a1", "");
  if (open.result_int() != 200 || open.body().rfind("0{", 0) != 0)
    return {false, "handshake: " + std::to_string(open.result_int()) + " " + open.body()};
  const std::string sid(parse_json_object(open.body().substr(1)).at("sid").as_string());
  auto posted = send(http::verb::post, base + "&sid=" + sid + "&t=a2", "40");
  if (posted.result_int() != 200)
    return {false, "POST: " + std::to_string(posted.result_int()) + " " + posted.body()};
  auto polled = send(http::verb::get, base + "&sid=" + sid + "&t=a3", "");
  if (polled.result_int() != 200 || polled.body().rfind("40{", 0) != 0)
    return {false, "poll: " + std::to_string(polled.result_int()) + " " + polled.body()};
  return {true, {}};
}

// How many of `n` clients got through the handshake, connect and first poll.
int socket_io_clients_connected(std::uint16_t port, int n, std::string& trouble) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    PollingRun run = socket_io_start(port);
    ok += run.ok;
    if (!run.ok && trouble.empty()) trouble = run.trouble;
  }
  return ok;
}

TEST(StickyPolling, RoundRobinBreaksSocketIoPolling) {
  ClusterConfig c;
  c.count = 3;
  c.script = "session_app.js";
  c.extra = "balance: round_robin\n";
  Cluster cluster(c);
  std::string trouble;
  EXPECT_LT(socket_io_clients_connected(cluster.port(), 10, trouble), 10);
  EXPECT_NE(trouble.find("Session ID unknown"), std::string::npos) << trouble;
}

TEST(StickyPolling, InsertModeCarriesSocketIoPollingThroughThreeWorkers) {
  ClusterConfig c = sticky_cluster(std::string("  mode: insert\n  key: \"") + insert_key +
                                       "\"\n  fallback: round_robin\n",
                                   3);
  Cluster cluster(c);
  std::string trouble;
  EXPECT_EQ(socket_io_clients_connected(cluster.port(), 10, trouble), 10) << trouble;
}

TEST(StickyPolling, LearnModeFollowsSocketIosIoCookie) {
  ClusterConfig c = sticky_cluster("  cookie: io\n  mode: learn\n  fallback: round_robin\n", 3);
  c.env["IO_COOKIE"] = "1";  // socket.io's `cookie` option
  Cluster cluster(c);
  std::string trouble;
  EXPECT_EQ(socket_io_clients_connected(cluster.port(), 10, trouble), 10) << trouble;
  EXPECT_EQ(metric(cluster.admin_port(), "corral_sticky_table_entries"), 10);
}

TEST(StickyHash, SameKeySameUpstream) {
  Apps apps(3);
  CorralConfig c;
  apps.add_to(c);
  c.balance = "sticky";
  c.extra = "sticky: { mode: hash, cookie: sid }\n";
  Corral corral(c);
  HttpClient client(corral.port());
  std::set<std::string> used;
  for (int k = 0; k < 30; ++k) {
    const std::string cookie = "sid=key" + std::to_string(k);
    const std::string first = ask(client, "/", cookie).name;
    used.insert(first);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(ask(client, "/", cookie).name, first);
  }
  EXPECT_EQ(used.size(), 3u) << "30 keys all hashed onto fewer than 3 upstreams";
}

}  // namespace
}  // namespace corral::test
