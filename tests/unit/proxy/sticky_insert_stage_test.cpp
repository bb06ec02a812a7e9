// StickyInsertStage: corral's signed cookie, read, stripped and issued, without sockets.
#include "proxy/sticky_insert_stage.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

#include "tests/unit/proxy/sticky_stage_fixture.hpp"

namespace corral::proxy {
namespace {

using balancer::PickOutcome;
using testing::insert_config;
using testing::StickyFixture;

TEST(StickyInsertStage, IssuesStripsAndHonoursItsCookie) {
  StickyFixture f(insert_config());
  auto p = f.request({"a=1"});
  EXPECT_EQ(f.verdict, ChoiceVerdict::chosen);
  EXPECT_EQ(p.outcome, PickOutcome::miss);
  f.respond(2, p.outcome, {});
  std::string set_cookie(f.res[http::field::set_cookie]);
  ASSERT_TRUE(set_cookie.starts_with("corral_affinity=2.")) << set_cookie;
  EXPECT_NE(set_cookie.find("; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax"), std::string::npos);
  EXPECT_EQ(f.router->counters().cookies_issued.get(), 1u);
  const std::string pair = set_cookie.substr(0, set_cookie.find(';'));

  p = f.request({"a=1; " + pair + "; b=2"});
  EXPECT_EQ(p.outcome, PickOutcome::hit);
  EXPECT_EQ(p.slot, 2u);
  EXPECT_EQ(f.current->req[http::field::cookie], "a=1; b=2");
  f.respond(2, p.outcome, {});
  EXPECT_EQ(f.res.count(http::field::set_cookie), 0u) << "a fresh cookie is not re-issued";
  EXPECT_EQ(f.router->counters().cookies_issued.get(), 1u);

  p = f.request({pair});
  EXPECT_EQ(p.slot, 2u);
  EXPECT_EQ(f.current->req.count(http::field::cookie), 0u)
      << "a Cookie header with only ours is dropped";

  p = f.request({"x=1", pair, "y=2"});
  EXPECT_EQ(p.slot, 2u);
  ASSERT_EQ(f.current->req.count(http::field::cookie), 2u);
}

TEST(StickyInsertStage, TamperedCookieCountsAsAbsent) {
  StickyFixture f(insert_config());
  f.request({});
  f.respond(2, PickOutcome::miss, {});
  std::string pair(f.res[http::field::set_cookie]);
  pair = pair.substr(0, pair.find(';'));
  pair[std::string("corral_affinity=").size()] = '0';  // claim slot 0
  auto p = f.request({pair});
  EXPECT_EQ(p.outcome, PickOutcome::miss);
  EXPECT_EQ(f.router->counters().cookies_rejected.get(), 1u);
  EXPECT_EQ(f.current->req.count(http::field::cookie), 0u);
  f.respond(*p.slot, p.outcome, {});
  EXPECT_EQ(f.res.count(http::field::set_cookie), 1u) << "a valid cookie replaces it";
}

TEST(StickyInsertStage, ARehomedSessionGetsACookieForWhereItLanded) {
  StickyFixture f(insert_config());
  f.request({});
  f.respond(1, PickOutcome::miss, {});
  std::string pair(f.res[http::field::set_cookie]);
  pair = pair.substr(0, pair.find(';'));
  f.table.set_usable(1, false);
  auto p = f.request({pair});
  ASSERT_EQ(p.outcome, PickOutcome::rehomed);
  f.respond(*p.slot, p.outcome, {});
  std::string fresh(f.res[http::field::set_cookie]);
  EXPECT_TRUE(fresh.starts_with("corral_affinity=" + std::to_string(*p.slot) + ".")) << fresh;
}

TEST(StickyInsertStage, NoResponseSlotNoCookie) {
  StickyFixture f(insert_config());
  f.request({});
  http::response<http::empty_body, Fields> res;
  EXPECT_EQ(f.stage->on_response_header(f.current->r, res), StageVerdict::proceed);
  EXPECT_EQ(res.count(http::field::set_cookie), 0u);
}

TEST(StickyInsertStage, RefusesAConfigWithoutAKey) {
  auto s = insert_config();
  s.key.clear();
  config::Config cfg;
  cfg.balance = config::Balance::sticky;
  cfg.sticky = s;
  balancer::SlotTable table({1, 1});
  auto b = balancer::make_balancer(cfg, table);
  StickyRouter router(*cfg.sticky, nullptr, nullptr, *b);
  EXPECT_THROW(StickyInsertStage(router, 1024), std::invalid_argument);
}

}  // namespace
}  // namespace corral::proxy
