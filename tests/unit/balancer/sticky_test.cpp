#include "balancer/sticky.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "balancer/balancer.hpp"
#include "balancer/least_loaded.hpp"
#include "balancer/round_robin.hpp"
#include "balancer/slot_table.hpp"

namespace corral::balancer {
namespace {

Sticky make(SlotTable& table, OnUnavailable policy = OnUnavailable::failover) {
  return Sticky(table, std::make_unique<RoundRobin>(table), policy);
}

void expect_pick(const StickyPick& got, std::optional<SlotId> slot, StickyOutcome outcome) {
  EXPECT_EQ(got.slot, slot);
  EXPECT_EQ(got.outcome, outcome);
}

constexpr SlotId a = 0, b = 1, c = 2;
constexpr RequestView no_request{};

TEST(Sticky, HintOnAServableSlotIsAHit) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  expect_pick(sticky.pick_with_hint(no_request, c), c, StickyOutcome::hit);
  expect_pick(sticky.pick_with_hint(no_request, a), a, StickyOutcome::hit);
}

TEST(Sticky, NoHintIsAMissPlacedByTheFallback) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  expect_pick(sticky.pick_with_hint(no_request, std::nullopt), a, StickyOutcome::miss);
  expect_pick(sticky.pick_with_hint(no_request, std::nullopt), b, StickyOutcome::miss);
  expect_pick(sticky.pick_with_hint(no_request, std::nullopt), c, StickyOutcome::miss);
}

TEST(Sticky, HitsDoNotAdvanceTheFallbackRotation) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  std::vector<SlotId> got;
  const std::array<std::optional<SlotId>, 6> hints{std::nullopt, c, c,
                                                   std::nullopt, a, std::nullopt};
  for (auto hint : hints) got.push_back(*sticky.pick_with_hint(no_request, hint).slot);
  EXPECT_EQ(got, (std::vector<SlotId>{a, c, c, b, a, c}));
}

TEST(Sticky, PlainPickIsAMissUntilRequestViewCarriesAHint) {
  SlotTable table({1, 1});
  auto sticky = make(table);
  EXPECT_EQ(sticky.pick({}), a);
  EXPECT_EQ(sticky.pick({}), b);
  EXPECT_EQ(sticky.counters().misses, 2u);
}

TEST(Sticky, FailoverRehomesADownSlotsSession) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  sticky.on_down(a);
  expect_pick(sticky.pick_with_hint(no_request, a), b, StickyOutcome::rehomed);
  expect_pick(sticky.pick_with_hint(no_request, a), c, StickyOutcome::rehomed);
  sticky.on_up(a);
  expect_pick(sticky.pick_with_hint(no_request, a), a, StickyOutcome::hit);
}

TEST(Sticky, FailoverRehomesAHintPastTheLastSlot) {
  SlotTable table({1, 1});
  auto sticky = make(table);
  expect_pick(sticky.pick_with_hint(no_request, 7), a, StickyOutcome::rehomed);
}

TEST(Sticky, FailoverRehomesWhenThePinnedSlotWasAlreadyTried) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  expect_pick(sticky.pick_with_hint(retry, a), b, StickyOutcome::rehomed);
}

TEST(Sticky, HoldReportsADownSlotAsUnavailable) {
  SlotTable table({1, 1});
  auto sticky = make(table, OnUnavailable::hold);
  sticky.on_down(b);
  expect_pick(sticky.pick_with_hint(no_request, b), std::nullopt, StickyOutcome::unavailable);
  // The hold timed out: the proxy asks again with failover.
  expect_pick(sticky.pick_with_hint(no_request, b, OnUnavailable::failover), a,
              StickyOutcome::rehomed);
  // Or the slot came back in time.
  sticky.on_up(b);
  expect_pick(sticky.pick_with_hint(no_request, b), b, StickyOutcome::hit);
}

TEST(Sticky, HoldFailsOverAtOnceWhenWaitingCouldNotEnd) {
  SlotTable table({1, 1});
  auto sticky = make(table, OnUnavailable::hold);
  expect_pick(sticky.pick_with_hint(no_request, 5), a, StickyOutcome::rehomed);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  expect_pick(sticky.pick_with_hint(retry, a), b, StickyOutcome::rehomed);
}

TEST(Sticky, StrictNeverPlacesAPinnedSessionElsewhere) {
  SlotTable table({1, 1});
  auto sticky = make(table, OnUnavailable::strict);
  sticky.on_down(a);
  expect_pick(sticky.pick_with_hint(no_request, a), std::nullopt, StickyOutcome::unavailable);
  expect_pick(sticky.pick_with_hint(no_request, 5), std::nullopt, StickyOutcome::unavailable);
  sticky.on_up(a);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  expect_pick(sticky.pick_with_hint(retry, a), std::nullopt, StickyOutcome::unavailable);
  // New sessions are placed as usual.
  expect_pick(sticky.pick_with_hint(no_request, std::nullopt), a, StickyOutcome::miss);
}

TEST(Sticky, RehomeWithNoSlotLeftGivesNothing) {
  SlotTable table({1, 1});
  auto sticky = make(table);
  sticky.on_down(a);
  sticky.on_down(b);
  expect_pick(sticky.pick_with_hint(no_request, a), std::nullopt, StickyOutcome::rehomed);
  expect_pick(sticky.pick_with_hint(no_request, std::nullopt), std::nullopt, StickyOutcome::miss);
}

TEST(Sticky, CountsEachOutcome) {
  SlotTable table({1, 1});
  auto sticky = make(table);
  sticky.pick_with_hint(no_request, a);
  sticky.pick_with_hint(no_request, b);
  sticky.pick_with_hint(no_request, std::nullopt);
  sticky.on_down(b);
  sticky.pick_with_hint(no_request, b);
  sticky.pick_with_hint(no_request, b, OnUnavailable::strict);
  const StickyCounters& n = sticky.counters();
  EXPECT_EQ(n.hits, 2u);
  EXPECT_EQ(n.misses, 1u);
  EXPECT_EQ(n.rehomed, 1u);
  EXPECT_EQ(n.unavailable, 1u);
}

TEST(Sticky, LeastLoadedFallbackPlacesNewSessionsOnTheIdlestSlot) {
  SlotTable table({1, 1, 1});
  Sticky sticky(table, std::make_unique<LeastLoaded>(table));
  sticky.on_request_start(a);
  sticky.on_request_start(c);
  expect_pick(sticky.pick_with_hint(no_request, std::nullopt), b, StickyOutcome::miss);
  // A pinned session stays put however loaded its slot is.
  sticky.on_request_start(a);
  expect_pick(sticky.pick_with_hint(no_request, a), a, StickyOutcome::hit);
}

TEST(Sticky, EventsReachTheTableOnce) {
  SlotTable table({1, 1});
  auto sticky = make(table);
  sticky.on_request_start(b);
  EXPECT_EQ(table.in_flight(b), 1u);
  sticky.on_request_end(b);
  EXPECT_EQ(table.in_flight(b), 0u);
}

}  // namespace
}  // namespace corral::balancer
