#include "balancer/consistent_hash.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "balancer/balancer.hpp"
#include "balancer/key_hash.hpp"
#include "balancer/round_robin.hpp"
#include "balancer/slot_table.hpp"

namespace corral::balancer {
namespace {

ConsistentHash make(SlotTable& table,
                    unsigned factor = ConsistentHash::default_balance_factor_percent) {
  return ConsistentHash(table, std::make_unique<RoundRobin>(table), factor);
}

std::optional<SlotId> pick_key(ConsistentHash& ch, std::string_view key,
                               std::span<const SlotId> exclude = {}) {
  RequestView request;
  request.affinity_key = key;
  request.exclude = exclude;
  return ch.pick(request);
}

void load(SlotTable& table, SlotId s, int n) {
  for (int i = 0; i < n; ++i) table.request_started(s);
}

std::string key_number(int i) { return "session-" + std::to_string(i); }

// Scores on four equal slots, highest first:
//   alice 3 1 2 0   bob 2 0 3 1   carol 1 2 3 0   dave 0 3 2 1
//   erin 0 3 2 1    frank 2 0 3 1 grace 3 2 0 1   heidi 2 1 0 3
// These placements are what every corral replica and release must agree on: a change here moves
// every hash-mode session at the next deploy.
TEST(ConsistentHash, PlacesKeysOnTheirHighestScore) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  const std::vector<std::pair<std::string, SlotId>> expected{
      {"alice", 3}, {"bob", 2},   {"carol", 1}, {"dave", 0},
      {"erin", 0},  {"frank", 2}, {"grace", 3}, {"heidi", 2}};
  for (const auto& [key, slot] : expected) EXPECT_EQ(pick_key(ch, key), slot) << key;
}

TEST(ConsistentHash, SameKeyAlwaysSameSlot) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(pick_key(ch, "alice"), 3u);
}

TEST(ConsistentHash, PinnedPickIsAHitForAKeyAndAMissWithout) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  RequestView keyed;
  keyed.affinity_key = "alice";
  const Pick hit = ch.pick_pinned(keyed, config::OnUnavailable::strict);
  EXPECT_EQ(hit.slot, SlotId{3});
  EXPECT_EQ(hit.outcome, PickOutcome::hit);
  const Pick miss = ch.pick_pinned({}, config::OnUnavailable::strict);
  EXPECT_TRUE(miss.slot);
  EXPECT_EQ(miss.outcome, PickOutcome::miss);
}

TEST(Balancer, PlainAlgorithmsCountEveryPinnedPickAsAMiss) {
  SlotTable table({1, 1});
  RoundRobin rr(table);
  RequestView pinned;
  pinned.affinity_slot = 1;
  const Pick p = rr.pick_pinned(pinned, config::OnUnavailable::hold);
  EXPECT_EQ(p.slot, SlotId{0});
  EXPECT_EQ(p.outcome, PickOutcome::miss);
}

TEST(ConsistentHash, EmptyKeyGoesToTheFallback) {
  SlotTable table({1, 1, 1});
  auto ch = make(table);
  std::vector<SlotId> got;
  for (int i = 0; i < 5; ++i) got.push_back(*ch.pick({}));
  EXPECT_EQ(got, (std::vector<SlotId>{0, 1, 2, 0, 1}));
}

TEST(ConsistentHash, DownSlotSendsOnlyItsKeysToTheirNextScore) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  ch.on_down(3);
  EXPECT_EQ(pick_key(ch, "alice"), 1u);
  EXPECT_EQ(pick_key(ch, "grace"), 2u);
  EXPECT_EQ(pick_key(ch, "bob"), 2u);
  EXPECT_EQ(pick_key(ch, "dave"), 0u);
  ch.on_up(3);
  EXPECT_EQ(pick_key(ch, "alice"), 3u);
  EXPECT_EQ(pick_key(ch, "grace"), 3u);
}

TEST(ConsistentHash, TriedSlotsAreSkippedInScoreOrder) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  const std::array<SlotId, 1> tried_one{3};
  const std::array<SlotId, 2> tried_two{3, 1};
  const std::array<SlotId, 4> tried_all{0, 1, 2, 3};
  EXPECT_EQ(pick_key(ch, "alice", tried_one), 1u);
  EXPECT_EQ(pick_key(ch, "alice", tried_two), 2u);
  EXPECT_EQ(pick_key(ch, "alice", tried_all), std::nullopt);
}

TEST(ConsistentHash, NoUsableSlotGivesNothing) {
  SlotTable table({1, 1});
  auto ch = make(table);
  ch.on_down(0);
  ch.on_down(1);
  EXPECT_EQ(pick_key(ch, "alice"), std::nullopt);
  EXPECT_EQ(ch.pick({}), std::nullopt);
}

TEST(ConsistentHash, AddingASlotMovesAFifthOfTheKeysAllToTheNewSlot) {
  SlotTable four({1, 1, 1, 1});
  SlotTable five({1, 1, 1, 1, 1});
  auto ch4 = make(four);
  auto ch5 = make(five);
  int moved = 0;
  for (int i = 0; i < 10'000; ++i) {
    const std::string key = key_number(i);
    const SlotId before = *pick_key(ch4, key);
    const SlotId after = *pick_key(ch5, key);
    if (before == after) continue;
    ++moved;
    EXPECT_EQ(after, 4u) << key << " moved between surviving slots";
  }
  // 2,000 expected; the standard deviation is 40.
  EXPECT_GT(moved, 1800);
  EXPECT_LT(moved, 2200);
}

TEST(ConsistentHash, RemovingASlotMovesOnlyItsKeys) {
  SlotTable table({1, 1, 1, 1, 1});
  auto ch = make(table);
  std::vector<SlotId> before;
  for (int i = 0; i < 10'000; ++i) before.push_back(*pick_key(ch, key_number(i)));
  ch.on_down(2);
  int moved = 0;
  for (int i = 0; i < 10'000; ++i) {
    const SlotId after = *pick_key(ch, key_number(i));
    if (before[i] == 2) {
      EXPECT_NE(after, 2u);
      ++moved;
    } else {
      EXPECT_EQ(after, before[i]) << key_number(i);
    }
  }
  EXPECT_GT(moved, 1800);
  EXPECT_LT(moved, 2200);
}

TEST(ConsistentHash, SpreadsKeysEvenlyOverEqualSlots) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  std::array<int, 4> count{};
  for (int i = 0; i < 10'000; ++i) ++count[*pick_key(ch, key_number(i))];
  for (int s = 0; s < 4; ++s) {
    EXPECT_GT(count[s], 2300) << "slot " << s;
    EXPECT_LT(count[s], 2700) << "slot " << s;
  }
}

TEST(ConsistentHash, SpreadsKeysInProportionToWeight) {
  SlotTable table({1, 2, 1});
  auto ch = make(table);
  std::array<int, 3> count{};
  for (int i = 0; i < 10'000; ++i) ++count[*pick_key(ch, key_number(i))];
  EXPECT_GT(count[1], 4700);
  EXPECT_LT(count[1], 5300);
  EXPECT_GT(count[0], 2200);
  EXPECT_LT(count[0], 2800);
  EXPECT_GT(count[2], 2200);
  EXPECT_LT(count[2], 2800);
}

TEST(ConsistentHash, ScoresDependOnKeySlotAndWeight) {
  const std::uint64_t h = hash_key("alice");
  EXPECT_EQ(rendezvous_score(h, 3, 1), rendezvous_score(h, 3, 1));
  EXPECT_NE(rendezvous_score(h, 3, 1), rendezvous_score(h, 2, 1));
  EXPECT_DOUBLE_EQ(rendezvous_score(h, 3, 2), 2 * rendezvous_score(h, 3, 1));
}

// alice ranks 3, 1, 2, 0 on four equal slots. A slot is passed over when
// in_flight > 1.25 * total / 4 + 1.
TEST(ConsistentHash, BoundedLoadKeepsAKeyWhileItsSlotIsWithinBound) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  load(table, 3, 1);  // 1 <= 1.25 * 1 / 4 + 1
  EXPECT_EQ(pick_key(ch, "alice"), 3u);
}

TEST(ConsistentHash, BoundedLoadSendsAKeyToItsNextScoreWhenItsSlotIsOver) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  load(table, 3, 2);  // 2 > 1.25 * 2 / 4 + 1 = 1.625
  EXPECT_EQ(pick_key(ch, "alice"), 1u);
  load(table, 1, 2);  // total 4: bound 2.25, slot 3 has room again
  EXPECT_EQ(pick_key(ch, "alice"), 3u);
  load(table, 3, 1);
  load(table, 1, 1);  // 3 and 3 of 6: bound 2.875, both over: the third choice
  EXPECT_EQ(pick_key(ch, "alice"), 2u);
}

TEST(ConsistentHash, BoundedLoadEdgeIsExact) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  load(table, 0, 10);
  load(table, 1, 10);
  load(table, 2, 10);
  load(table, 3, 15);  // total 45: bound 1.25 * 45 / 4 + 1 = 15.06
  EXPECT_EQ(pick_key(ch, "alice"), 3u);
  load(table, 3, 1);  // total 46: bound 15.375 < 16
  EXPECT_EQ(pick_key(ch, "alice"), 1u);
  table.request_ended(3);
  EXPECT_EQ(pick_key(ch, "alice"), 3u) << "back as soon as the load falls";
}

TEST(ConsistentHash, BoundedLoadFollowsWeights) {
  SlotTable table({1, 3});  // heidi prefers slot 1 at these weights
  auto ch = make(table);
  ASSERT_EQ(pick_key(ch, "heidi"), 1u);
  load(table, 1, 4);  // share of 4 is 3: bound 1.25 * 3 + 1 = 4.75
  EXPECT_EQ(pick_key(ch, "heidi"), 1u);
  load(table, 1, 1);  // share of 5 is 3.75: bound 5.69
  EXPECT_EQ(pick_key(ch, "heidi"), 1u);
  load(table, 1, 2);  // share of 7 is 5.25: bound 7.56
  EXPECT_EQ(pick_key(ch, "heidi"), 1u);
  load(table, 1, 2);  // share of 9 is 6.75: bound 9.44
  EXPECT_EQ(pick_key(ch, "heidi"), 1u);
  load(table, 1, 4);  // share of 13 is 9.75: bound 13.19
  EXPECT_EQ(pick_key(ch, "heidi"), 1u);
  load(table, 1, 8);  // share of 21 is 15.75: bound 20.69 < 21
  EXPECT_EQ(pick_key(ch, "heidi"), 0u);
}

TEST(ConsistentHash, WithoutRoomAnywhereTheHighestUntriedScoreStillServes) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table);
  load(table, 3, 5);
  const std::array<SlotId, 3> tried{0, 1, 2};
  EXPECT_EQ(pick_key(ch, "alice", tried), 3u);
}

TEST(ConsistentHash, FactorZeroTurnsTheBoundOff) {
  SlotTable table({1, 1, 1, 1});
  auto ch = make(table, 0);
  load(table, 3, 100);
  EXPECT_EQ(pick_key(ch, "alice"), 3u);
}

TEST(ConsistentHash, EventsReachTheTableOnce) {
  SlotTable table({1, 1});
  auto ch = make(table);
  ch.on_request_start(1);
  EXPECT_EQ(table.in_flight(1), 1u);
  ch.on_request_end(1);
  EXPECT_EQ(table.in_flight(1), 0u);
  ch.on_down(0);
  EXPECT_FALSE(table.usable(0));
  ch.on_up(0);
  EXPECT_TRUE(table.usable(0));
}

}  // namespace
}  // namespace corral::balancer
