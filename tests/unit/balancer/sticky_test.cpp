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

using config::OnUnavailable;

Sticky make(SlotTable& table, OnUnavailable policy = OnUnavailable::failover) {
  return Sticky(table, std::make_unique<RoundRobin>(table), policy);
}

// The pick for `request` pinned to `pin`, under `policy`.
Pick pinned(Sticky& sticky, RequestView request, std::optional<SlotId> pin,
            OnUnavailable policy) {
  request.affinity_slot = pin;
  return sticky.pick_pinned(request, policy);
}

// The same under the policy the balancer was made with.
Pick pinned(Sticky& sticky, RequestView request, std::optional<SlotId> pin) {
  return pinned(sticky, request, pin, sticky.on_unavailable());
}

void expect_pick(const Pick& got, std::optional<SlotId> slot, PickOutcome outcome) {
  EXPECT_EQ(got.slot, slot);
  EXPECT_EQ(got.outcome, outcome);
}

constexpr SlotId a = 0, b = 1, c = 2;
constexpr RequestView no_request{};

TEST(Sticky, HintOnAServableSlotIsAHit) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  expect_pick(pinned(sticky, no_request, c), c, PickOutcome::hit);
  expect_pick(pinned(sticky, no_request, a), a, PickOutcome::hit);
}

TEST(Sticky, NoHintIsAMissPlacedByTheFallback) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  expect_pick(pinned(sticky, no_request, std::nullopt), a, PickOutcome::miss);
  expect_pick(pinned(sticky, no_request, std::nullopt), b, PickOutcome::miss);
  expect_pick(pinned(sticky, no_request, std::nullopt), c, PickOutcome::miss);
}

TEST(Sticky, HitsDoNotAdvanceTheFallbackRotation) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  std::vector<SlotId> got;
  const std::array<std::optional<SlotId>, 6> hints{std::nullopt, c, c,
                                                   std::nullopt, a, std::nullopt};
  for (auto hint : hints) got.push_back(*pinned(sticky, no_request, hint).slot);
  EXPECT_EQ(got, (std::vector<SlotId>{a, c, c, b, a, c}));
}

TEST(Sticky, PlainPickHonoursThePinTheRequestViewCarries) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  EXPECT_EQ(sticky.pick({}), a);
  RequestView pinned_to_c;
  pinned_to_c.affinity_slot = c;
  EXPECT_EQ(sticky.pick(pinned_to_c), c);
  EXPECT_EQ(sticky.pick({}), b);
}

TEST(Sticky, FailoverRehomesADownSlotsSession) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  sticky.on_down(a);
  expect_pick(pinned(sticky, no_request, a), b, PickOutcome::rehomed);
  expect_pick(pinned(sticky, no_request, a), c, PickOutcome::rehomed);
  sticky.on_up(a);
  expect_pick(pinned(sticky, no_request, a), a, PickOutcome::hit);
}

TEST(Sticky, FailoverRehomesAHintPastTheLastSlot) {
  SlotTable table({1, 1});
  auto sticky = make(table);
  expect_pick(pinned(sticky, no_request, 7), a, PickOutcome::rehomed);
}

TEST(Sticky, FailoverRehomesWhenThePinnedSlotWasAlreadyTried) {
  SlotTable table({1, 1, 1});
  auto sticky = make(table);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  expect_pick(pinned(sticky, retry, a), b, PickOutcome::rehomed);
}

TEST(Sticky, HoldReportsADownSlotAsUnavailable) {
  SlotTable table({1, 1});
  auto sticky = make(table, OnUnavailable::hold);
  sticky.on_down(b);
  expect_pick(pinned(sticky, no_request, b), std::nullopt, PickOutcome::unavailable);
  // The hold timed out: the proxy asks again with failover.
  expect_pick(pinned(sticky, no_request, b, OnUnavailable::failover), a,
              PickOutcome::rehomed);
  // Or the slot came back in time.
  sticky.on_up(b);
  expect_pick(pinned(sticky, no_request, b), b, PickOutcome::hit);
}

TEST(Sticky, HoldFailsOverAtOnceWhenWaitingCouldNotEnd) {
  SlotTable table({1, 1});
  auto sticky = make(table, OnUnavailable::hold);
  expect_pick(pinned(sticky, no_request, 5), a, PickOutcome::rehomed);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  expect_pick(pinned(sticky, retry, a), b, PickOutcome::rehomed);
}

TEST(Sticky, StrictNeverPlacesAPinnedSessionElsewhere) {
  SlotTable table({1, 1});
  auto sticky = make(table, OnUnavailable::strict);
  sticky.on_down(a);
  expect_pick(pinned(sticky, no_request, a), std::nullopt, PickOutcome::unavailable);
  expect_pick(pinned(sticky, no_request, 5), std::nullopt, PickOutcome::unavailable);
  sticky.on_up(a);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  expect_pick(pinned(sticky, retry, a), std::nullopt, PickOutcome::unavailable);
  // New sessions are placed as usual.
  expect_pick(pinned(sticky, no_request, std::nullopt), a, PickOutcome::miss);
}

TEST(Sticky, RehomeWithNoSlotLeftGivesNothing) {
  SlotTable table({1, 1});
  auto sticky = make(table);
  sticky.on_down(a);
  sticky.on_down(b);
  expect_pick(pinned(sticky, no_request, a), std::nullopt, PickOutcome::rehomed);
  expect_pick(pinned(sticky, no_request, std::nullopt), std::nullopt, PickOutcome::miss);
}

TEST(Sticky, LeastLoadedFallbackPlacesNewSessionsOnTheIdlestSlot) {
  SlotTable table({1, 1, 1});
  Sticky sticky(table, std::make_unique<LeastLoaded>(table));
  sticky.on_request_start(a);
  sticky.on_request_start(c);
  expect_pick(pinned(sticky, no_request, std::nullopt), b, PickOutcome::miss);
  // A pinned session stays put however loaded its slot is.
  sticky.on_request_start(a);
  expect_pick(pinned(sticky, no_request, a), a, PickOutcome::hit);
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
