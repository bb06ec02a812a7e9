// StickyRouter: the pick for a request's pin, the hold and its bounded queue, without sockets.
#include "proxy/sticky_router.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "tests/unit/proxy/sticky_stage_fixture.hpp"

namespace corral::proxy {
namespace {

using balancer::PickOutcome;
using testing::learn_config;
using testing::StickyFixture;

TEST(StickyRouter, HoldQueueIsBounded) {
  StickyFixture f(learn_config());
  for (std::size_t i = 0; i < StickyRouter::max_held; ++i) ASSERT_TRUE(f.router->try_hold());
  EXPECT_FALSE(f.router->try_hold());
  f.router->end_hold(true);
  EXPECT_TRUE(f.router->try_hold());
  EXPECT_EQ(f.router->counters().held.get(), StickyRouter::max_held + 1);
  EXPECT_EQ(f.router->counters().hold_served.get(), 1u);
}

TEST(StickyRouter, AfterAHoldThePinIfItCanServeElsePlacedAnew) {
  auto s = learn_config();
  s.on_unavailable = config::OnUnavailable::hold;
  StickyFixture h(s);
  h.request({});
  h.respond(0, PickOutcome::miss, {"connect.sid=v"});
  h.table.set_usable(0, false);
  EXPECT_EQ(h.request({"connect.sid=v"}).outcome, PickOutcome::unavailable);
  auto& r = h.current->r.sticky;
  auto& view = h.current->view;
  EXPECT_FALSE(h.router->pin_can_serve(r, view));
  h.table.set_usable(0, true);
  EXPECT_TRUE(h.router->pin_can_serve(r, view));
  EXPECT_EQ(h.router->pick_after_hold(r, view).outcome, PickOutcome::hit);
  h.table.set_usable(0, false);
  EXPECT_EQ(h.router->pick_after_hold(r, view).outcome, PickOutcome::rehomed);
}

TEST(StickyRouter, WaitForRestartEndsWhenTheSlotComesBackOrAfterTheGrace) {
  auto s = learn_config();
  s.on_unavailable = config::OnUnavailable::hold;
  s.hold_timeout = std::chrono::milliseconds(2000);
  StickyFixture f(s);
  // Taken down, then back: the slot's next worker serves.
  int step = 0;
  f.wait.on_wait = [&] { f.table.set_usable(1, ++step >= 2); };
  EXPECT_TRUE(f.run(f.router->wait_for_restart(1, f.wait)));
  EXPECT_EQ(f.router->counters().hold_served.get(), 1u);
  // Never taken down: the worker is alive, the wait ends after the grace (500 ms).
  StickyFixture alive(s);
  alive.wait.on_wait = [] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); };
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(alive.run(alive.router->wait_for_restart(1, alive.wait)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(alive.router->counters().held.get(), 1u);
  EXPECT_EQ(alive.router->counters().hold_served.get(), 0u);
}

}  // namespace
}  // namespace corral::proxy
