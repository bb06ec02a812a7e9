// What the sticky stage of every mode does at dispatch: the pin chosen, and under
// on_unavailable: hold the waits (the stage suspends), without sockets.
#include "proxy/sticky_stage.hpp"

#include <gtest/gtest.h>

#include "tests/unit/proxy/sticky_stage_fixture.hpp"

namespace corral::proxy {
namespace {

using balancer::PickOutcome;
using testing::learn_config;
using testing::StickyFixture;

config::Sticky with(config::OnUnavailable policy) {
  auto s = learn_config();
  s.on_unavailable = policy;
  return s;
}

// A session pinned to slot 0, whose slot then goes down.
void pin_then_take_down(StickyFixture& f) {
  f.request({});
  f.respond(0, PickOutcome::miss, {"connect.sid=v"});
  f.table.set_usable(0, false);
}

TEST(StickyStage, FailoverRehomesAtOnce) {
  StickyFixture f(with(config::OnUnavailable::failover));
  pin_then_take_down(f);
  auto p = f.request({"connect.sid=v"});
  EXPECT_EQ(f.verdict, ChoiceVerdict::chosen);
  EXPECT_EQ(p.outcome, PickOutcome::rehomed);
  EXPECT_FALSE(f.current->r.wait_for_pin);
}

TEST(StickyStage, StrictChoosesUnavailable) {
  StickyFixture f(with(config::OnUnavailable::strict));
  pin_then_take_down(f);
  auto p = f.request({"connect.sid=v"});
  EXPECT_EQ(f.verdict, ChoiceVerdict::chosen);
  EXPECT_EQ(p.outcome, PickOutcome::unavailable);
  EXPECT_FALSE(p.slot);
  EXPECT_EQ(f.router->counters().strict_rejections.get(), 1u);
}

TEST(StickyStage, HoldSuspendsAndIsServedByThePinnedSlotWhenItComesBack) {
  StickyFixture f(with(config::OnUnavailable::hold));
  pin_then_take_down(f);
  f.request({"connect.sid=v"});
  ASSERT_EQ(f.verdict, ChoiceVerdict::suspend);
  EXPECT_TRUE(f.current->r.wait_for_pin);
  f.wait.on_wait = [&] { f.table.set_usable(0, true); };
  auto p = f.run(f.stage->resume_choose_upstream(f.current->r, f.current->view));
  EXPECT_EQ(p.outcome, PickOutcome::hit);
  EXPECT_EQ(p.slot, 0u);
  EXPECT_EQ(f.wait.waits, 1);
  EXPECT_EQ(f.router->counters().held.get(), 1u);
  EXPECT_EQ(f.router->counters().hold_served.get(), 1u);
}

TEST(StickyStage, AHoldEndsWithTheConnectionsDrainAndFailsOver) {
  StickyFixture f(with(config::OnUnavailable::hold));
  pin_then_take_down(f);
  f.request({"connect.sid=v"});
  ASSERT_EQ(f.verdict, ChoiceVerdict::suspend);
  f.wait.draining = true;
  auto p = f.run(f.stage->resume_choose_upstream(f.current->r, f.current->view));
  EXPECT_EQ(p.outcome, PickOutcome::rehomed);
  EXPECT_EQ(f.wait.waits, 0);
  EXPECT_EQ(f.router->counters().hold_served.get(), 0u);
}

TEST(StickyStage, UnderHoldAFailedTryOnThePinWaitsForTheSlot) {
  StickyFixture f(with(config::OnUnavailable::hold));
  auto& r = f.begin({}).r;
  EXPECT_EQ(f.stage->on_failed_try(r, {1, PickOutcome::hit}), StageVerdict::suspend);
  EXPECT_EQ(f.stage->on_failed_try(r, {1, PickOutcome::miss}), StageVerdict::proceed);
  EXPECT_EQ(f.stage->on_failed_try(r, {1, PickOutcome::rehomed}), StageVerdict::proceed);
  int step = 0;
  f.wait.on_wait = [&] { f.table.set_usable(1, ++step >= 2); };
  EXPECT_TRUE(f.run(f.stage->resume_failed_try(r, {1, PickOutcome::hit})));

  StickyFixture failover(with(config::OnUnavailable::failover));
  EXPECT_EQ(failover.stage->on_failed_try(failover.begin({}).r, {1, PickOutcome::hit}),
            StageVerdict::proceed);
}

}  // namespace
}  // namespace corral::proxy
