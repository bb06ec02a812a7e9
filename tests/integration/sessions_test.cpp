// Shared-state mode end to end: the real corral binary, real Node apps (data/shared_session_app.js)
// and a real redis-server started by the test on a free port.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/harness.hpp"
#include "tests/integration/redis_server.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;
using clock = std::chrono::steady_clock;

// One shared_session_app.js process.
class SessionApp {
 public:
  explicit SessionApp(std::string name) : name_(std::move(name)) {
    process_ = std::make_unique<Process>(std::vector<std::string>{
        "node", std::string(CORRAL_TEST_DATA) + "/shared_session_app.js", name_, "0"});
    auto m = process_->wait_for_line(std::regex("^listening (\\d+)$"), 15s, Stream::out);
    port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& name() const { return name_; }
  Process& process() { return *process_; }

 private:
  std::string name_;
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

// What one request through corral came back with.
struct Answer {
  int status = 0;
  std::string app;         // which app answered
  long pid = 0;            // and its process
  json::value session;     // the session the app saw (null for none)
  json::object headers;    // the request headers the app saw
  std::string set_cookie;  // the Set-Cookie corral added, if any
  http::response<http::string_body> res;
};

std::string sid_in(const std::string& set_cookie) {
  std::smatch m;
  if (std::regex_search(set_cookie, m, std::regex("corral_sid=([^;]*)"))) return m[1];
  return {};
}

Answer call(std::uint16_t port, const std::string& target, const std::string& sid = {},
            std::vector<std::pair<std::string, std::string>> headers = {}, Millis timeout = 5s) {
  HttpClient client(port, timeout);
  if (!sid.empty()) headers.emplace_back("Cookie", "theme=dark; corral_sid=" + sid);
  Answer a;
  a.res = client.get(target, headers);
  a.status = a.res.result_int();
  if (auto it = a.res.find(http::field::set_cookie); it != a.res.end()) a.set_cookie = it->value();
  if (a.status == 200) {
    auto body = parse_json_object(a.res.body());
    a.app = body.at("name").as_string().c_str();
    a.pid = body.at("pid").to_number<long>();
    a.session = body.at("session");
    a.headers = body.at("headers").as_object();
  }
  return a;
}

std::string user_of(const Answer& a) {
  if (!a.session.is_object()) return {};
  auto* u = a.session.as_object().if_contains("user");
  return u && u->is_string() ? std::string(u->as_string().c_str()) : std::string();
}

std::string sessions_block(const std::string& url, const std::string& extra = {}) {
  return "sessions:\n  store: redis\n  redis: \"" + url + "\"\n" + extra;
}

// Polls `f` until it returns true or the deadline passes; returns whether it did.
template <class F>
bool eventually(F f, Millis timeout, Millis step = 50ms) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    if (f()) return true;
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

// corral says ready before its Redis connections are: a test that needs the store waits for
// every proxy thread's connection (the metric), so that fail_open cannot hide a slow start.
void wait_store_up(Corral& corral, unsigned threads = 2) {
  bool up = eventually(
      [&] { return corral.metric("corral_session_store_connections_up").value_or(0) >= threads; },
      10s);
  if (!up) throw HarnessError("the session store did not connect");
}

// A cluster of session apps behind corral in shared-state mode.
struct SharedCluster {
  explicit SharedCluster(
      RedisServer& redis, unsigned apps = 3, std::string balance = "round_robin",
      std::string sessions_extra = "  timeouts: { connect: 300ms, command: 200ms }\n",
      std::string url = {}, bool store_up = true) {
    for (unsigned i = 0; i < apps; ++i)
      this->apps.push_back(std::make_unique<SessionApp>("app" + std::to_string(i)));
    CorralConfig c;
    c.threads = "2";
    c.balance = std::move(balance);
    for (const auto& a : this->apps) c.add(a->address());
    c.extra = sessions_block(url.empty() ? redis.url() : url, sessions_extra);
    corral = std::make_unique<Corral>(c);
    if (store_up) wait_store_up(*corral);
  }
  std::uint16_t port() const { return corral->port(); }

  std::vector<std::unique_ptr<SessionApp>> apps;
  std::unique_ptr<Corral> corral;
};

std::string login(std::uint16_t port, const std::string& user) {
  auto a = call(port, "/login?user=" + user);
  EXPECT_EQ(a.status, 200);
  auto sid = sid_in(a.set_cookie);
  EXPECT_EQ(sid.size(), 22u) << a.set_cookie;
  EXPECT_NE(a.set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(a.set_cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_NE(a.set_cookie.find("Path=/"), std::string::npos);
  EXPECT_EQ(a.set_cookie.find("Secure"), std::string::npos);  // a plain-HTTP listener
  return sid;
}

class Sessions : public ::testing::TestWithParam<std::string> {};

TEST_P(Sessions, ALoginOnOneWorkerIsRecognisedByEveryWorker) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 3, GetParam());
  auto sid = login(s.port(), "ann");
  std::set<std::string> apps;
  for (int i = 0; i < 12; ++i) {
    auto a = call(s.port(), "/whoami", sid);
    ASSERT_EQ(a.status, 200);
    EXPECT_EQ(user_of(a), "ann") << a.app;
    apps.insert(a.app);
  }
  EXPECT_EQ(apps.size(), 3u) << "the balancer is free to use every worker";
  // A request without the cookie, or with an unknown id, has no session.
  EXPECT_TRUE(call(s.port(), "/whoami").session.is_null());
  EXPECT_TRUE(call(s.port(), "/whoami", "AAAAAAAAAAAAAAAAAAAAAA").session.is_null());
  EXPECT_TRUE(call(s.port(), "/whoami", "not-an-id").session.is_null());
  // One Redis round trip per request that carries a session.
  EXPECT_EQ(s.corral->metric("corral_sessions_total", {{"result", "loaded"}}).value_or(0), 12);
}

INSTANTIATE_TEST_SUITE_P(Balance, Sessions, ::testing::Values("round_robin", "least_loaded"));

TEST(SharedSessions, AWorkerKilledMidSessionLosesNoSession) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis);
  auto sid = login(s.port(), "bea");
  ASSERT_EQ(call(s.port(), "/set?cart=3", sid).status, 200);
  s.apps[1]->process().kill();
  s.apps[1]->process().wait_exit(5s);
  for (int i = 0; i < 9; ++i) {
    auto a = call(s.port(), "/whoami", sid);
    ASSERT_EQ(a.status, 200);
    EXPECT_NE(a.app, "app1");
    EXPECT_EQ(user_of(a), "bea");
    EXPECT_EQ(a.session.as_object().at("cart"), "3");
  }
  // Changes keep working on the remaining workers.
  ASSERT_EQ(call(s.port(), "/set?cart=4", sid).status, 200);
  EXPECT_EQ(call(s.port(), "/whoami", sid).session.as_object().at("cart"), "4");
}

TEST(SharedSessions, InClusterModeAWorkerKilledAndReplacedLosesNoSession) {
  REQUIRE_REDIS();
  RedisServer redis;
  Corral corral(
      "listen: \"127.0.0.1:0\"\nadmin: \"127.0.0.1:0\"\nthreads: 2\naccess_log: off\n"
      "timeouts: { connect: 1s }\n"
      "workers:\n  command: [node, \"" +
      std::string(CORRAL_TEST_DATA) +
      "/shared_session_app.js\"]\n  count: 2\n  restart: { backoff: 50ms, max_backoff: 1s }\n" +
      sessions_block(redis.url()));
  auto sid = login(corral.port(), "una");
  ASSERT_EQ(call(corral.port(), "/set?cart=5", sid).status, 200);
  auto first = call(corral.port(), "/whoami", sid);
  ASSERT_EQ(first.status, 200);
  ASSERT_GT(first.pid, 0);
  ::kill(static_cast<pid_t>(first.pid), SIGKILL);
  // Every request meanwhile is served, with the session, by whichever worker is up...
  for (int i = 0; i < 6; ++i) {
    auto a = call(corral.port(), "/whoami", sid);
    ASSERT_EQ(a.status, 200);
    EXPECT_EQ(json::serialize(a.session), R"({"user":"una","cart":"5"})");
  }
  // ...and the replacement worker in the killed slot knows it too.
  Answer replaced;
  ASSERT_TRUE(eventually(
      [&] {
        replaced = call(corral.port(), "/whoami", sid);
        return replaced.app == first.app && replaced.pid != first.pid;
      },
      10s, 20ms));
  EXPECT_EQ(json::serialize(replaced.session), R"({"user":"una","cart":"5"})");
}

TEST(SharedSessions, FieldsMergeAndNullRemovesOne) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "cy");
  ASSERT_EQ(call(s.port(), "/set?a=1&b=2", sid).status, 200);
  ASSERT_EQ(call(s.port(), "/set?b=3", sid).status, 200);
  auto a = call(s.port(), "/whoami", sid);
  EXPECT_EQ(json::serialize(a.session), R"({"user":"cy","a":"1","b":"3"})");
  ASSERT_EQ(call(s.port(), "/unset?a", sid).status, 200);
  EXPECT_EQ(json::serialize(call(s.port(), "/whoami", sid).session), R"({"user":"cy","b":"3"})");
  // An answer that is not a JSON object changes nothing.
  EXPECT_EQ(call(s.port(), "/bad", sid).status, 200);
  EXPECT_EQ(json::serialize(call(s.port(), "/whoami", sid).session), R"({"user":"cy","b":"3"})");
  // Stored under a key of corral's, with the TTL set.
  auto ttl = std::stol(redis.cli({"PTTL", "corral:session:" + sid}));
  EXPECT_GT(ttl, 0);
}

TEST(SharedSessions, LogoutClearsTheCookieAndTheSession) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "dee");
  auto out = call(s.port(), "/logout", sid);
  ASSERT_EQ(out.status, 200);
  EXPECT_NE(out.set_cookie.find("corral_sid=;"), std::string::npos) << out.set_cookie;
  EXPECT_NE(out.set_cookie.find("Max-Age=0"), std::string::npos) << out.set_cookie;
  EXPECT_TRUE(call(s.port(), "/whoami", sid).session.is_null());
  EXPECT_EQ(redis.cli({"EXISTS", "corral:session:" + sid}), "0");
  // Clear and Set in one answer: a new session under a new id (the old one stays dead).
  auto sid2 = login(s.port(), "dee");
  auto re = call(s.port(), "/relogin?user=eve", sid2);
  auto sid3 = sid_in(re.set_cookie);
  ASSERT_EQ(sid3.size(), 22u) << re.set_cookie;
  EXPECT_NE(sid3, sid2);
  EXPECT_TRUE(call(s.port(), "/whoami", sid2).session.is_null());
  EXPECT_EQ(user_of(call(s.port(), "/whoami", sid3)), "eve");
}

TEST(SharedSessions, TheSessionExpiresAfterTheSlidingTtl) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2, "round_robin", "  ttl: 1s\n");
  auto sid = login(s.port(), "fay");
  // Used every 400 ms for 2 s, twice the TTL: each use renews it.
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(400ms);
    ASSERT_EQ(user_of(call(s.port(), "/whoami", sid)), "fay") << "use " << i;
  }
  auto last_use = clock::now();
  // Then left alone: gone about a TTL later (Redis expires keys within ~100 ms of their time).
  bool expired = eventually(
      [&] {
        return redis.cli({"EXISTS", "corral:session:" + sid}) == "0";
      },
      5s);
  auto idle = clock::now() - last_use;
  ASSERT_TRUE(expired);
  EXPECT_GE(idle, 900ms);
  EXPECT_TRUE(call(s.port(), "/whoami", sid).session.is_null());
}

TEST(SharedSessions, ConcurrentUpdatesOfDifferentFieldsBothSurvive) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1);
  auto sid = login(s.port(), "gil");
  auto& app = s.apps[0]->process();
  // Both requests load the session before either answers; each then changes its own field.
  Answer a, b;
  std::thread ta([&] { a = call(s.port(), "/set?a=1&delay=400", sid); });
  ASSERT_TRUE(app.try_wait_for_line(std::regex("^begin /set$"), 5s, Stream::out));
  std::thread tb([&] { b = call(s.port(), "/set?b=2&delay=100", sid); });
  ASSERT_TRUE(app.try_wait_for_line(std::regex("^begin /set$"), 5s, Stream::out));
  ta.join();
  tb.join();
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(json::serialize(call(s.port(), "/whoami", sid).session),
            R"({"user":"gil","b":"2","a":"1"})");
}

TEST(SharedSessions, ALogoutIsNotUndoneByAConcurrentRequest) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1);
  auto sid = login(s.port(), "hal");
  auto& app = s.apps[0]->process();
  // A slow request that loaded the session answers with a change after the logout.
  Answer slow;
  std::thread t([&] { slow = call(s.port(), "/set?cart=9&delay=400", sid); });
  ASSERT_TRUE(app.try_wait_for_line(std::regex("^begin /set$"), 5s, Stream::out));
  auto out = call(s.port(), "/logout", sid);
  ASSERT_EQ(out.status, 200);
  t.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_TRUE(slow.set_cookie.empty()) << "no new session for the late change";
  EXPECT_TRUE(call(s.port(), "/whoami", sid).session.is_null());
  EXPECT_EQ(redis.cli({"EXISTS", "corral:session:" + sid}), "0");
  EXPECT_EQ(s.corral->metric("corral_sessions_total", {{"result", "gone"}}).value_or(0), 1);
}

TEST(SharedSessions, ClientSentSessionHeadersNeverReachTheApp) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1);
  std::vector<std::pair<std::string, std::string>> forged{
      {"X-Corral-Session", R"({"user":"root"})"},
      {"x-corral-session", R"({"admin":true})"},
      {"X_Corral_Session", R"({"user":"root"})"},
      {"X-Corral-Session-Set", R"({"user":"root"})"},
      {"X-Corral-Session-Clear", "1"}};
  auto anon = call(s.port(), "/whoami", {}, forged);
  ASSERT_EQ(anon.status, 200);
  EXPECT_TRUE(anon.session.is_null());
  for (const auto& [name, value] : anon.headers)
    EXPECT_EQ(lower(std::string(name)).find("corral"), std::string::npos) << name;
  EXPECT_TRUE(anon.set_cookie.empty());

  auto sid = login(s.port(), "ida");
  auto a = call(s.port(), "/whoami", sid, forged);
  EXPECT_EQ(json::serialize(a.session), R"({"user":"ida"})");
  int seen = 0;
  for (const auto& [name, value] : a.headers)
    if (lower(std::string(name)).find("corral") != std::string::npos) ++seen;
  EXPECT_EQ(seen, 1) << "only corral's own X-Corral-Session";
  // ...and the app's answer headers never reach the client.
  auto l = call(s.port(), "/login?user=jo");
  EXPECT_EQ(l.res.find("X-Corral-Session-Set"), l.res.end());
  auto o = call(s.port(), "/logout", sid_in(l.set_cookie));
  EXPECT_EQ(o.res.find("X-Corral-Session-Clear"), o.res.end());
}

TEST(SharedSessions, TheSessionCookieIsSecureWhenATrustedProxySaysHttps) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1, "round_robin",
                  "  timeouts: { connect: 300ms, command: 200ms }\n"
                  "trusted_proxies: [127.0.0.1]\n");
  const std::vector<std::pair<std::string, std::string>> https = {{"X-Forwarded-Proto", "https"}};
  auto in = call(s.port(), "/login?user=ann", {}, https);
  ASSERT_EQ(in.status, 200);
  EXPECT_NE(in.set_cookie.find("; Secure"), std::string::npos) << in.set_cookie;
  EXPECT_EQ(in.headers.at("x-forwarded-proto").as_string(), "https");
  // The logout's cookie too, so that the browser replaces the one it holds.
  auto out = call(s.port(), "/logout", sid_in(in.set_cookie), https);
  EXPECT_NE(out.set_cookie.find("Max-Age=0"), std::string::npos) << out.set_cookie;
  EXPECT_NE(out.set_cookie.find("; Secure"), std::string::npos) << out.set_cookie;
  // Plain http from the same proxy: no Secure (auto).
  auto plain = call(s.port(), "/login?user=ann");
  EXPECT_EQ(plain.set_cookie.find("Secure"), std::string::npos) << plain.set_cookie;
}

TEST(SharedSessions, SessionsSecureTrueAndFalse) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster always(redis, 1, "round_robin", "  secure: true\n");
  auto a = call(always.port(), "/login?user=bo");
  EXPECT_NE(a.set_cookie.find("; Secure"), std::string::npos) << a.set_cookie;
  SharedCluster never(redis, 1, "round_robin", "  secure: false\ntrusted_proxies: [127.0.0.1]\n");
  auto n = call(never.port(), "/login?user=bo", {}, {{"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(n.status, 200);
  EXPECT_EQ(n.set_cookie.find("Secure"), std::string::npos) << n.set_cookie;
}

TEST(SharedSessions, RedisDownFailClosedAnswers503WithoutHangingAndRecovers) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "kim");
  EXPECT_EQ(s.corral->admin_get("/readyz").result_int(), 200);

  redis.stop();
  auto t0 = clock::now();
  auto down = call(s.port(), "/whoami", sid);
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(down.res.body().find("session store"), std::string::npos) << down.res.body();
  EXPECT_LT(clock::now() - t0, 1500ms);
  // A login cannot be stored either: 503 rather than a cookie for nothing.
  EXPECT_EQ(call(s.port(), "/login?user=kim").status, 503);
  // Requests that carry no session do not need the store.
  EXPECT_EQ(call(s.port(), "/whoami").status, 200);
  EXPECT_TRUE(eventually([&] { return s.corral->admin_get("/readyz").result_int() == 503; }, 3s));

  redis.start();  // same port, empty
  auto back = clock::now();
  ASSERT_TRUE(eventually([&] { return call(s.port(), "/whoami", sid).status == 200; }, 5s, 20ms));
  auto recovered = clock::now() - back;
  EXPECT_LT(recovered, 2500ms) << "corral reconnects within about a second";
  EXPECT_TRUE(eventually([&] { return s.corral->admin_get("/readyz").result_int() == 200; }, 3s));
  auto sid2 = login(s.port(), "kim");
  EXPECT_EQ(user_of(call(s.port(), "/whoami", sid2)), "kim");
  EXPECT_GE(s.corral->metric("corral_redis_reconnects_total").value_or(0), 1);
}

TEST(SharedSessions, RedisTransitionsAreLoggedOnceForAllProxyThreads) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1);  // two proxy threads, a Redis connection each
  auto count = [&](const std::string& text) {
    std::size_t n = 0;
    std::istringstream in(s.corral->process().output());
    for (std::string line; std::getline(in, line);) n += line.find(text) != std::string::npos;
    return n;
  };
  EXPECT_EQ(count("connected to Redis"), 1u) << s.corral->process().tail();
  redis.stop();
  ASSERT_TRUE(eventually(
      [&] { return s.corral->metric("corral_session_store_connections_up").value_or(1) == 0; },
      5s));
  redis.start();
  wait_store_up(*s.corral);
  EXPECT_EQ(count("Redis connection lost"), 1u) << s.corral->process().tail();
  EXPECT_EQ(count("connected to Redis"), 2u) << s.corral->process().tail();
}

TEST(SharedSessions, RedisSilentFailClosedAnswersWithinTheCommandTimeout) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "lou");
  redis.pause();
  auto t0 = clock::now();
  auto a = call(s.port(), "/whoami", sid);
  auto took = clock::now() - t0;
  EXPECT_EQ(a.status, 503);
  EXPECT_GE(took, 150ms) << "waited for the answer";
  EXPECT_LT(took, 1500ms) << "but not much longer than timeouts.command (200ms)";
  // More requests meanwhile: each bounded, none hangs.
  for (int i = 0; i < 5; ++i) {
    auto t1 = clock::now();
    EXPECT_EQ(call(s.port(), "/whoami", sid).status, 503);
    EXPECT_LT(clock::now() - t1, 1500ms);
  }
  redis.resume();
  // The data survived the pause: the same session comes back.
  ASSERT_TRUE(
      eventually([&] { return user_of(call(s.port(), "/whoami", sid)) == "lou"; }, 5s, 20ms));
  EXPECT_GE(s.corral->metric("corral_redis_timeouts_total").value_or(0), 1);
}

TEST(SharedSessions, ReadyzTurnsTheMomentARequestFailsForTheStore) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1);
  auto sid = login(s.port(), "max");
  EXPECT_EQ(s.corral->admin_get("/readyz").result_int(), 200);
  redis.pause();
  EXPECT_EQ(call(s.port(), "/whoami", sid).status, 503);
  // Not a second later: at once.
  auto ready = s.corral->admin_get("/readyz");
  EXPECT_EQ(ready.result_int(), 503);
  EXPECT_EQ(ready.body(), "session store down\n");
  redis.resume();
  EXPECT_TRUE(eventually([&] { return s.corral->admin_get("/readyz").result_int() == 200; }, 5s));
  EXPECT_EQ(user_of(call(s.port(), "/whoami", sid)), "max");
}

TEST(SharedSessions, RedisDownFailOpenForwardsWithoutASession) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2, "round_robin",
                  "  on_store_down: fail_open\n  timeouts: { command: 200ms }\n");
  auto sid = login(s.port(), "max");
  redis.stop();
  auto t0 = clock::now();
  auto a = call(s.port(), "/whoami", sid);
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(a.session.is_null());
  EXPECT_LT(clock::now() - t0, 1500ms);
  auto l = call(s.port(), "/login?user=max");
  EXPECT_EQ(l.status, 200);
  EXPECT_TRUE(l.set_cookie.empty()) << "no cookie for a session that was not stored";
  EXPECT_EQ(s.corral->admin_get("/readyz").result_int(), 200) << "fail_open stays ready";

  redis.start();
  // Each proxy thread reconnects on its own: a request on a thread not yet back goes without
  // a session, so the check waits for all of them.
  wait_store_up(*s.corral);
  std::string sid2;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = call(s.port(), "/login?user=max");
        sid2 = sid_in(r.set_cookie);
        return !sid2.empty();
      },
      5s, 20ms));
  EXPECT_EQ(user_of(call(s.port(), "/whoami", sid2)), "max");
}

TEST(SharedSessions, FailOpenALogoutWhileRedisIsDownStillClearsTheCookie) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1, "round_robin",
                  "  on_store_down: fail_open\n  timeouts: { command: 200ms }\n");
  auto sid = login(s.port(), "rae");
  redis.stop();
  auto out = call(s.port(), "/logout", sid);
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.set_cookie.find("corral_sid=;"), std::string::npos) << out.set_cookie;
  EXPECT_NE(out.set_cookie.find("Max-Age=0"), std::string::npos) << out.set_cookie;
}

TEST(SharedSessions, FailOpenAChangeAfterAFailedLoadLandsOnTheSameSession) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1, "round_robin",
                  "  on_store_down: fail_open\n  timeouts: { command: 200ms }\n");
  auto sid = login(s.port(), "quin");
  auto& app = s.apps[0]->process();
  redis.pause();
  Answer a;
  std::thread t([&] { a = call(s.port(), "/set?cart=7&delay=1500", sid); });
  // The load timed out (forwarded without a session); Redis is back before the answer.
  ASSERT_TRUE(app.try_wait_for_line(std::regex("^begin /set$"), 5s, Stream::out));
  redis.resume();
  t.join();
  ASSERT_EQ(a.status, 200);
  EXPECT_TRUE(a.session.is_null()) << "forwarded without the session";
  EXPECT_TRUE(a.set_cookie.empty()) << "no new session over the user's own";
  EXPECT_EQ(json::serialize(call(s.port(), "/whoami", sid).session),
            R"({"user":"quin","cart":"7"})");
}

TEST(SharedSessions, AStoredSessionWithControlCharactersIsNotForwarded) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1);
  auto sid = login(s.port(), "ray");
  // Written behind corral's back: a raw CR LF would split the header sent to the app.
  redis.cli({"HSET", "corral:session:" + sid, "\"x\"", "1\r\nX-Injected: 1"});
  auto a = call(s.port(), "/whoami", sid);
  ASSERT_EQ(a.status, 200);
  EXPECT_TRUE(a.session.is_null());
  EXPECT_FALSE(a.headers.contains("x-injected"));
}

TEST(SharedSessions, AclUserPasswordAndDatabase) {
  REQUIRE_REDIS();
  RedisServer redis(std::vector<std::string>{"--user", "default", "off", "--user", "app", "on",
                                             ">s3cr@t", "~*", "+@all"});
  SharedCluster s(redis, 1, "round_robin", "",
                  "redis://app:s3cr%40t@127.0.0.1:" + std::to_string(redis.port()) + "/3");
  ASSERT_TRUE(eventually([&] { return s.corral->admin_get("/readyz").result_int() == 200; }, 5s));
  auto sid = login(s.port(), "ned");
  EXPECT_EQ(user_of(call(s.port(), "/whoami", sid)), "ned");
  auto exists = [&](unsigned db) {
    return redis.cli({"--user", "app", "--pass", "s3cr@t", "--no-auth-warning", "EXISTS",
                      "corral:session:" + sid},
                     db);
  };
  EXPECT_EQ(exists(3), "1");
  EXPECT_EQ(exists(0), "0");
}

TEST(SharedSessions, AWrongPasswordKeepsTheProxyNotReady) {
  REQUIRE_REDIS();
  RedisServer redis(std::vector<std::string>{"--requirepass", "right"});
  SharedCluster s(redis, 1, "round_robin", "",
                  "redis://:wrong@127.0.0.1:" + std::to_string(redis.port()), false);
  EXPECT_EQ(s.corral->admin_get("/readyz").result_int(), 503);
  EXPECT_EQ(call(s.port(), "/login?user=x").status, 503);
  // Logged once, possibly before corral said it was ready: look at every line so far.
  EXPECT_TRUE(eventually(
      [&] { return s.corral->process().has_line(std::regex("handshake failed: WRONGPASS")); }, 5s));
}

TEST(SharedSessions, RedissWithASelfSignedCertificateTrustedThroughTheCaFile) {
  REQUIRE_REDIS_TLS();
  TempDir dir;
  auto certs = make_test_certificates(dir.path());
  RedisServer redis(certs);
  SharedCluster s(
      redis, 2, "round_robin",
      "  tls: { ca: \"" + certs.ca + "\" }\n  timeouts: { connect: 500ms, command: 200ms }\n");
  ASSERT_TRUE(eventually([&] { return s.corral->admin_get("/readyz").result_int() == 200; }, 5s));
  auto sid = login(s.port(), "ola");
  EXPECT_EQ(user_of(call(s.port(), "/whoami", sid)), "ola");
  EXPECT_EQ(redis.cli({"EXISTS", "corral:session:" + sid}), "1");
  // A restart of Redis: corral reconnects through TLS again. The session is in the threads'
  // caches: 503 once the bridge has relayed the close to the store's connection.
  redis.stop();
  EXPECT_TRUE(
      eventually([&] { return call(s.port(), "/whoami", sid).status == 503; }, 2s, 20ms));
  redis.start();
  ASSERT_TRUE(
      eventually([&] { return call(s.port(), "/login?user=ola").status == 200; }, 5s, 20ms));
}

TEST(SharedSessions, RedissRefusesACertificateItCannotVerify) {
  REQUIRE_REDIS_TLS();
  TempDir dir;
  auto certs = make_test_certificates(dir.path());
  RedisServer redis(certs);
  SharedCluster s(redis, 1, "round_robin", "", {},
                  false);  // the system's CAs do not know the test CA
  EXPECT_TRUE(eventually(
      [&] { return s.corral->process().has_line(std::regex("certificate verify failed")); }, 5s));
  EXPECT_EQ(s.corral->admin_get("/readyz").result_int(), 503);
  EXPECT_EQ(call(s.port(), "/login?user=x").status, 503);
}

TEST(SharedSessions, RedissWithoutVerificationWhenAskedTo) {
  REQUIRE_REDIS_TLS();
  TempDir dir;
  auto certs = make_test_certificates(dir.path());
  RedisServer redis(certs);
  SharedCluster s(redis, 1, "round_robin", "  tls: { insecure_skip_verify: true }\n");
  ASSERT_TRUE(eventually([&] { return s.corral->admin_get("/readyz").result_int() == 200; }, 5s));
  auto sid = login(s.port(), "pia");
  EXPECT_EQ(user_of(call(s.port(), "/whoami", sid)), "pia");
}

// --- the threads' session caches (client-side caching) ------------------------------------

double cache_hits(Corral& corral) {
  return corral.metric("corral_session_cache_total", {{"result", "hit"}}).value_or(0);
}

// Uses the session until both proxy threads answer it from their caches.
void warm_cache(SharedCluster& s, const std::string& sid, const std::string& user) {
  auto before = cache_hits(*s.corral);
  bool warm = eventually(
      [&] {
        EXPECT_EQ(user_of(call(s.port(), "/whoami", sid)), user);
        return cache_hits(*s.corral) >= before + 4;
      },
      10s, 20ms);
  ASSERT_TRUE(warm) << "the session is not served from the cache";
}

// The first request that shows `user`, within a bounded wait, and none after it shows another.
void expect_seen(SharedCluster& s, const std::string& sid, const std::string& user) {
  ASSERT_TRUE(eventually([&] { return user_of(call(s.port(), "/whoami", sid)) == user; }, 3s,
                         10ms))
      << "the change never reached the request";
  for (int i = 0; i < 10; ++i) EXPECT_EQ(user_of(call(s.port(), "/whoami", sid)), user) << i;
}

TEST(SharedSessionCache, ASessionChangedInRedisIsSeenByTheNextRequests) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "ann");
  warm_cache(s, sid, "ann");
  auto t0 = clock::now();
  redis.cli({"HSET", "corral:session:" + sid, "\"user\"", "\"bob\""});
  expect_seen(s, sid, "bob");
  EXPECT_LT(clock::now() - t0, 1s);
  EXPECT_GE(s.corral->metric("corral_session_cache_invalidations_total").value_or(0), 1);
  // Cached again after the change.
  warm_cache(s, sid, "bob");
}

TEST(SharedSessionCache, ASessionDeletedInRedisIsNoLongerLoaded) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "cat");
  warm_cache(s, sid, "cat");
  redis.cli({"DEL", "corral:session:" + sid});
  ASSERT_TRUE(eventually([&] { return call(s.port(), "/whoami", sid).session.is_null(); }, 3s,
                         10ms));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(call(s.port(), "/whoami", sid).session.is_null()) << i;
  // FLUSHALL too: every thread's cache is dropped.
  auto sid2 = login(s.port(), "dan");
  warm_cache(s, sid2, "dan");
  redis.cli({"FLUSHALL"});
  ASSERT_TRUE(eventually([&] { return call(s.port(), "/whoami", sid2).session.is_null(); }, 3s,
                         10ms));
}

TEST(SharedSessionCache, AChangeOfOurOwnIsSeenAtOnceOnEveryThread) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "eve");
  warm_cache(s, sid, "eve");
  ASSERT_EQ(call(s.port(), "/set?cart=9", sid).status, 200);
  // At once, on every thread: the writer moved the session's write mark before it answered, so
  // no thread serves its older copy while Redis's invalidation is still on its way.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(json::serialize(call(s.port(), "/whoami", sid).session), R"({"user":"eve","cart":"9"})")
        << "request " << i;
}

TEST(SharedSessionCache, ASessionServedFromTheCacheKeepsItsTtlSliding) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2, "round_robin", "  ttl: 1s\n");
  auto sid = login(s.port(), "fay");
  auto hits0 = cache_hits(*s.corral);
  // Used every 50 ms for three TTLs.
  auto until = clock::now() + 3s;
  while (clock::now() < until) {
    ASSERT_EQ(user_of(call(s.port(), "/whoami", sid)), "fay");
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(cache_hits(*s.corral), hits0 + 20) << "served from the cache, not from Redis";
  EXPECT_GE(s.corral->metric("corral_session_ttl_renewals_total").value_or(0), 3);
  auto pttl = std::stol(redis.cli({"PTTL", "corral:session:" + sid}));
  EXPECT_GT(pttl, 0);
  // Left alone, it still expires.
  EXPECT_TRUE(eventually(
      [&] { return redis.cli({"EXISTS", "corral:session:" + sid}) == "0"; }, 5s));
  EXPECT_TRUE(call(s.port(), "/whoami", sid).session.is_null());
}

TEST(SharedSessionCache, ALostInvalidationConnectionServesNothingStale) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "gus");
  warm_cache(s, sid, "gus");
  // The listening connections go; the change right behind reaches nobody's cache by message.
  redis.cli({"CLIENT", "KILL", "TYPE", "pubsub"});
  redis.cli({"HSET", "corral:session:" + sid, "\"user\"", "\"hal\""});
  expect_seen(s, sid, "hal");
  // Listening again (a new subscription per thread), the cache serves again, and is coherent.
  ASSERT_TRUE(eventually(
      [&] { return redis.cli({"PUBSUB", "NUMSUB", "__redis__:invalidate"}).find("\n2") !=
                   std::string::npos; },
      5s));
  warm_cache(s, sid, "hal");
  redis.cli({"HSET", "corral:session:" + sid, "\"user\"", "\"ida\""});
  expect_seen(s, sid, "ida");
}

TEST(SharedSessionCache, ACachedSessionIsNotServedWhileRedisIsSilentOrDown) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2);
  auto sid = login(s.port(), "jay");
  warm_cache(s, sid, "jay");
  redis.pause();
  // The store's heartbeat finds Redis silent within a second and the command timeout.
  auto t0 = clock::now();
  ASSERT_TRUE(eventually([&] { return call(s.port(), "/whoami", sid).status == 503; }, 4s, 20ms));
  EXPECT_LT(clock::now() - t0, 2500ms);
  EXPECT_TRUE(eventually([&] { return s.corral->admin_get("/readyz").result_int() == 503; }, 3s));
  redis.resume();
  ASSERT_TRUE(
      eventually([&] { return user_of(call(s.port(), "/whoami", sid)) == "jay"; }, 5s, 20ms));
  warm_cache(s, sid, "jay");
  redis.stop();
  ASSERT_TRUE(eventually([&] { return call(s.port(), "/whoami", sid).status == 503; }, 2s, 20ms));
}

TEST(SharedSessionCache, FailOpenForwardsACachedSessionsRequestWithoutItWhileRedisIsDown) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 2, "round_robin",
                  "  on_store_down: fail_open\n  timeouts: { command: 200ms }\n");
  auto sid = login(s.port(), "kai");
  warm_cache(s, sid, "kai");
  redis.stop();
  ASSERT_TRUE(eventually(
      [&] {
        auto a = call(s.port(), "/whoami", sid);
        return a.status == 200 && a.session.is_null();
      },
      2s, 20ms));
}

TEST(SharedSessionCache, MaxEntriesZeroTurnsTheCacheOff) {
  REQUIRE_REDIS();
  RedisServer redis;
  SharedCluster s(redis, 1, "round_robin", "  cache: { max_entries: 0 }\n");
  auto sid = login(s.port(), "lee");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(user_of(call(s.port(), "/whoami", sid)), "lee");
  EXPECT_EQ(cache_hits(*s.corral), 0);
  EXPECT_EQ(redis.cli({"PUBSUB", "NUMSUB", "__redis__:invalidate"}), "__redis__:invalidate\n0");
}

}  // namespace
}  // namespace corral::test
