// StickyRouter: per-request keys, pins, learning and corral's cookie, without sockets.
#include "proxy/sticky_router.hpp"

#include <gtest/gtest.h>

#include "balancer/slot_table.hpp"

namespace corral::proxy {
namespace {

using balancer::PickOutcome;

constexpr const char* key = "0123456789abcdef0123456789abcdef";

struct Fixture {
  explicit Fixture(config::Sticky s, std::size_t slots = 3)
      : sticky(std::move(s)), table(std::vector<unsigned>(slots, 1)) {
    config.balance = config::Balance::sticky;
    config.sticky = sticky;
    balancer = balancer::make_balancer(config, table);
    router.emplace(*config.sticky, &affinity, nullptr, *balancer, 16 * 1024);
  }

  // begin + pick for a request with these Cookie header values.
  balancer::Pick request(std::vector<std::string> cookies, std::string target = "/") {
    req = {};
    req.method(http::verb::get);
    req.target(target);
    for (const auto& c : cookies) req.insert(http::field::cookie, c);
    state = {};
    router->begin(state, req, "10.0.0.7");
    view = {req.method_string(), req.target(), {}, {}};
    return router->pick(state, view);
  }

  void respond(balancer::SlotId slot, PickOutcome outcome, std::vector<std::string> set_cookies) {
    res = {};
    for (const auto& c : set_cookies) res.insert(http::field::set_cookie, c);
    router->on_response(state, res, slot, outcome, false);
  }

  config::Sticky sticky;
  config::Config config;
  balancer::SlotTable table;
  std::unique_ptr<balancer::Balancer> balancer;
  session::AffinityTable affinity;
  std::optional<StickyRouter> router;
  StickyRequest state;  // the request in flight
  http::request<http::empty_body, Fields> req;
  http::response<http::empty_body, Fields> res;
  balancer::RequestView view;
};

config::Sticky learn() {
  config::Sticky s;
  s.cookie = "connect.sid";
  s.fallback = config::Balance::round_robin;
  return s;
}

TEST(StickyRouterLearn, RequestsInFlightTogetherKeepTheirOwnSessions) {
  // One thread carries many requests at once: user a's logout is answered while user b's
  // request is between begin() and its answer. Each keeps its own key and pin.
  Fixture f(learn());
  f.request({});
  f.respond(0, PickOutcome::miss, {"connect.sid=a; Path=/"});
  f.request({});
  f.respond(1, PickOutcome::miss, {"connect.sid=b; Path=/"});
  http::request<http::empty_body, Fields> qa{http::verb::post, "/logout", 11}, qb{http::verb::get, "/", 11};
  qa.insert(http::field::cookie, "connect.sid=a");
  qb.insert(http::field::cookie, "connect.sid=b");
  StickyRequest ra, rb;
  f.router->begin(ra, qa, "10.0.0.7");
  f.router->begin(rb, qb, "10.0.0.8");
  balancer::RequestView va{qa.method_string(), qa.target(), {}, {}};
  balancer::RequestView vb{qb.method_string(), qb.target(), {}, {}};
  EXPECT_EQ(f.router->pick(ra, va).slot, 0u);
  http::response<http::empty_body, Fields> logout;
  logout.insert(http::field::set_cookie, "connect.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  f.router->on_response(ra, logout, 0, PickOutcome::hit, false);
  auto pb = f.router->pick(rb, vb);
  EXPECT_EQ(pb.outcome, PickOutcome::hit);
  EXPECT_EQ(pb.slot, 1u);
  http::response<http::empty_body, Fields> ok;
  f.router->on_response(rb, ok, 1, pb.outcome, false);
  EXPECT_EQ(f.affinity.size(), 1u);  // a forgotten, b kept
  EXPECT_EQ(f.request({"connect.sid=b"}).slot, 1u);
  EXPECT_EQ(f.request({"connect.sid=a"}).outcome, PickOutcome::miss);
}

TEST(StickyRouterLearn, LearnsFromSetCookieAndPinsLaterRequests) {
  Fixture f(learn());
  auto p = f.request({"connect.sid=abc"});
  EXPECT_EQ(p.outcome, PickOutcome::miss);  // unknown value: never learned from a request
  f.respond(2, p.outcome, {"other=1; Path=/", "connect.sid=s%3Anew.sig; Path=/; HttpOnly"});
  EXPECT_EQ(f.affinity.size(), 1u);
  for (int i = 0; i < 5; ++i) {
    p = f.request({"a=1; connect.sid=s%3Anew.sig; b=2"});
    EXPECT_EQ(p.outcome, PickOutcome::hit);
    EXPECT_EQ(p.slot, 2u);
  }
  // A second Cookie header is searched too.
  p = f.request({"a=1", "connect.sid=s%3Anew.sig"});
  EXPECT_EQ(p.slot, 2u);
  EXPECT_EQ(f.router->counters().hits.get(), 6u);
}

TEST(StickyRouterLearn, AMillionRandomClientCookiesDoNotGrowTheTable) {
  Fixture f(learn());
  f.request({});
  f.respond(1, PickOutcome::miss, {"connect.sid=real"});
  const auto bytes = f.affinity.memory_bytes();
  std::uint64_t x = 88172645463325252ull;
  std::string cookie;
  for (int i = 0; i < 1'000'000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    cookie = "connect.sid=s%3A" + std::to_string(x);
    auto p = f.request({cookie});
    ASSERT_EQ(p.outcome, PickOutcome::miss);
    f.respond(*p.slot, p.outcome, {});  // the app sets nothing for a session it does not know
  }
  EXPECT_EQ(f.affinity.size(), 1u);
  EXPECT_EQ(f.affinity.memory_bytes(), bytes);
  EXPECT_EQ(f.affinity.counters().learned, 1u);
  EXPECT_EQ(f.request({"connect.sid=real"}).slot, 1u);
}

TEST(StickyRouterLearn, DeletingSetCookieForgetsTheRequestsSession) {
  Fixture f(learn());
  f.request({});
  f.respond(1, PickOutcome::miss, {"connect.sid=v1; Path=/"});
  auto p = f.request({"connect.sid=v1"});
  EXPECT_EQ(p.slot, 1u);
  f.respond(1, p.outcome, {"connect.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"});
  EXPECT_EQ(f.affinity.size(), 0u);
  EXPECT_EQ(f.request({"connect.sid=v1"}).outcome, PickOutcome::miss);
}

TEST(StickyRouterLearn, RehomedSessionIsPinnedWhereItLanded) {
  Fixture f(learn());
  f.request({});
  f.respond(1, PickOutcome::miss, {"connect.sid=v1"});
  f.table.set_usable(1, false);
  auto p = f.request({"connect.sid=v1"});
  ASSERT_EQ(p.outcome, PickOutcome::rehomed);
  ASSERT_TRUE(p.slot);
  EXPECT_NE(*p.slot, 1u);
  f.respond(*p.slot, p.outcome, {});
  f.table.set_usable(1, true);
  auto again = f.request({"connect.sid=v1"});
  EXPECT_EQ(again.outcome, PickOutcome::hit);
  EXPECT_EQ(again.slot, p.slot);
  EXPECT_EQ(f.router->counters().rehomed.get(), 1u);
}

TEST(StickyRouterLearn, StrictAndHoldReportUnavailable) {
  auto s = learn();
  s.on_unavailable = config::OnUnavailable::strict;
  Fixture f(s);
  f.request({});
  f.respond(0, PickOutcome::miss, {"connect.sid=v"});
  f.table.set_usable(0, false);
  EXPECT_EQ(f.request({"connect.sid=v"}).outcome, PickOutcome::unavailable);
  EXPECT_EQ(f.router->counters().strict_rejections.get(), 1u);

  s.on_unavailable = config::OnUnavailable::hold;
  Fixture h(s);
  h.request({});
  h.respond(0, PickOutcome::miss, {"connect.sid=v"});
  h.table.set_usable(0, false);
  EXPECT_EQ(h.request({"connect.sid=v"}).outcome, PickOutcome::unavailable);
  EXPECT_FALSE(h.router->pin_can_serve(h.state, h.view));
  h.table.set_usable(0, true);
  EXPECT_TRUE(h.router->pin_can_serve(h.state, h.view));
  EXPECT_EQ(h.router->pick_after_hold(h.state, h.view).outcome, PickOutcome::hit);
  h.table.set_usable(0, false);
  EXPECT_EQ(h.router->pick_after_hold(h.state, h.view).outcome, PickOutcome::rehomed);
}

TEST(StickyRouterLearn, HoldQueueIsBounded) {
  Fixture f(learn());
  for (std::size_t i = 0; i < StickyRouter::max_held; ++i) ASSERT_TRUE(f.router->try_hold());
  EXPECT_FALSE(f.router->try_hold());
  f.router->end_hold(true);
  EXPECT_TRUE(f.router->try_hold());
}

config::Sticky insert() {
  config::Sticky s;
  s.mode = config::StickyMode::insert;
  s.key = key;
  s.fallback = config::Balance::round_robin;
  s.max_age = std::chrono::hours(1);
  return s;
}

TEST(StickyRouterInsert, IssuesStripsAndHonoursItsCookie) {
  Fixture f(insert());
  auto p = f.request({"a=1"});
  EXPECT_EQ(p.outcome, PickOutcome::miss);
  f.respond(2, p.outcome, {});
  std::string set_cookie(f.res[http::field::set_cookie]);
  ASSERT_TRUE(set_cookie.starts_with("corral_affinity=2.")) << set_cookie;
  EXPECT_NE(set_cookie.find("; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax"), std::string::npos);
  const std::string pair = set_cookie.substr(0, set_cookie.find(';'));

  p = f.request({"a=1; " + pair + "; b=2"});
  EXPECT_EQ(p.outcome, PickOutcome::hit);
  EXPECT_EQ(p.slot, 2u);
  EXPECT_EQ(f.req[http::field::cookie], "a=1; b=2");
  f.respond(2, p.outcome, {});
  EXPECT_EQ(f.res.count(http::field::set_cookie), 0u) << "a fresh cookie is not re-issued";

  p = f.request({pair});
  EXPECT_EQ(p.slot, 2u);
  EXPECT_EQ(f.req.count(http::field::cookie), 0u) << "a Cookie header with only ours is dropped";

  p = f.request({"x=1", pair, "y=2"});
  EXPECT_EQ(p.slot, 2u);
  ASSERT_EQ(f.req.count(http::field::cookie), 2u);
}

TEST(StickyRouterInsert, TamperedCookieCountsAsAbsent) {
  Fixture f(insert());
  f.request({});
  f.respond(2, PickOutcome::miss, {});
  std::string pair(f.res[http::field::set_cookie]);
  pair = pair.substr(0, pair.find(';'));
  pair[std::string("corral_affinity=").size()] = '0';  // claim slot 0
  auto p = f.request({pair});
  EXPECT_EQ(p.outcome, PickOutcome::miss);
  EXPECT_EQ(f.router->counters().cookies_rejected.get(), 1u);
  EXPECT_EQ(f.req.count(http::field::cookie), 0u);
  f.respond(*p.slot, p.outcome, {});
  EXPECT_EQ(f.res.count(http::field::set_cookie), 1u) << "a valid cookie replaces it";
}

TEST(StickyRouterHash, KeySources) {
  config::Sticky s;
  s.mode = config::StickyMode::hash;
  s.key_source = config::StickyKeySource::query;
  s.key_name = "sid";
  Fixture f(s, 5);
  auto a = f.request({}, "/p?x=1&sid=abc&y=2");
  EXPECT_EQ(f.view.affinity_key, "abc");
  EXPECT_EQ(a.outcome, PickOutcome::hit);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.request({}, "/q?sid=abc").slot, a.slot);
  EXPECT_EQ(f.request({}, "/q").outcome, PickOutcome::miss);

  s.key_source = config::StickyKeySource::client_ip;
  Fixture ip(s, 5);
  ip.request({});
  EXPECT_EQ(ip.view.affinity_key, "10.0.0.7");

  s.key_source = config::StickyKeySource::cookie;
  s.cookie = "sid";
  Fixture cookie(s, 5);
  cookie.request({"a=b; sid=xyz"});
  EXPECT_EQ(cookie.view.affinity_key, "xyz");
}

}  // namespace
}  // namespace corral::proxy
