// StickyLearnStage: the pin learned from the app's session cookie, per request, without sockets.
#include "proxy/sticky_learn_stage.hpp"

#include <gtest/gtest.h>

#include "tests/unit/proxy/sticky_stage_fixture.hpp"

namespace corral::proxy {
namespace {

using balancer::PickOutcome;
using testing::Flight;
using testing::learn_config;
using testing::StickyFixture;

TEST(StickyLearnStage, ChoosesThePinAndCountsTheOutcome) {
  StickyFixture f(learn_config());
  auto p = f.request({});
  EXPECT_EQ(f.verdict, ChoiceVerdict::chosen) << "the stage chooses even without a pin";
  EXPECT_EQ(p.outcome, PickOutcome::miss);
  f.respond(*p.slot, p.outcome, {"connect.sid=s1; Path=/"});
  auto again = f.request({"connect.sid=s1"});
  EXPECT_EQ(f.verdict, ChoiceVerdict::chosen);
  EXPECT_EQ(again.outcome, PickOutcome::hit);
  EXPECT_EQ(again.slot, p.slot);
  EXPECT_EQ(f.current->view.affinity_slot, p.slot) << "the pin reaches the balancer";
  EXPECT_EQ(f.router->counters().misses.get(), 1u);
  EXPECT_EQ(f.router->counters().hits.get(), 1u);
}

TEST(StickyLearnStage, RequestsInFlightTogetherKeepTheirOwnSessions) {
  // One thread carries many requests at once: user a's logout is answered while user b's
  // request is between its request header and its answer. Each keeps its own key and pin.
  StickyFixture f(learn_config());
  f.request({});
  f.respond(0, PickOutcome::miss, {"connect.sid=a; Path=/"});
  f.request({});
  f.respond(1, PickOutcome::miss, {"connect.sid=b; Path=/"});
  Flight a(f.config, {"connect.sid=a"}, "/logout");
  Flight b(f.config, {"connect.sid=b"}, "/", "10.0.0.8");
  f.stage->on_request_header(a.r);
  f.stage->on_request_header(b.r);
  EXPECT_EQ(f.choose(a).slot, 0u);
  f.respond(a, 0, PickOutcome::hit,
            {"connect.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"});
  auto pb = f.choose(b);
  EXPECT_EQ(pb.outcome, PickOutcome::hit);
  EXPECT_EQ(pb.slot, 1u);
  f.respond(b, 1, pb.outcome, {});
  EXPECT_EQ(f.affinity.size(), 1u);  // a forgotten, b kept
  EXPECT_EQ(f.request({"connect.sid=b"}).slot, 1u);
  EXPECT_EQ(f.request({"connect.sid=a"}).outcome, PickOutcome::miss);
}

TEST(StickyLearnStage, LearnsFromSetCookieAndPinsLaterRequests) {
  StickyFixture f(learn_config());
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

TEST(StickyLearnStage, AMillionRandomClientCookiesDoNotGrowTheTable) {
  StickyFixture f(learn_config());
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

TEST(StickyLearnStage, DeletingSetCookieForgetsTheRequestsSession) {
  StickyFixture f(learn_config());
  f.request({});
  f.respond(1, PickOutcome::miss, {"connect.sid=v1; Path=/"});
  auto p = f.request({"connect.sid=v1"});
  EXPECT_EQ(p.slot, 1u);
  f.respond(1, p.outcome, {"connect.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"});
  EXPECT_EQ(f.affinity.size(), 0u);
  EXPECT_EQ(f.request({"connect.sid=v1"}).outcome, PickOutcome::miss);
}

TEST(StickyLearnStage, RehomedSessionIsPinnedWhereItLanded) {
  StickyFixture f(learn_config());
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

TEST(StickyLearnStage, ANewSessionWithoutItsCookieLearnsNothing) {
  StickyFixture f(learn_config());
  auto p = f.request({});
  f.respond(*p.slot, p.outcome, {"theme=dark; Path=/"});
  EXPECT_EQ(f.affinity.size(), 0u);
}

}  // namespace
}  // namespace corral::proxy
