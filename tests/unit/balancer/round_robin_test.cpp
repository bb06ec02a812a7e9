#include "balancer/round_robin.hpp"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <optional>
#include <vector>

#include "balancer/balancer.hpp"
#include "balancer/slot_table.hpp"

namespace corral::balancer {
namespace {

// The next `n` picks; a pick that finds no slot fails the test.
std::vector<SlotId> picks(Balancer& balancer, int n, const RequestView& request = {}) {
  std::vector<SlotId> out;
  for (int i = 0; i < n; ++i) {
    std::optional<SlotId> s = balancer.pick(request);
    EXPECT_TRUE(s.has_value()) << "pick " << i << " found no slot";
    if (!s) break;
    out.push_back(*s);
  }
  return out;
}

constexpr SlotId a = 0, b = 1, c = 2;

TEST(RoundRobin, EqualWeightsRotateInSlotOrder) {
  SlotTable table({1, 1, 1});
  RoundRobin rr(table);
  EXPECT_EQ(picks(rr, 7), (std::vector<SlotId>{a, b, c, a, b, c, a}));
}

TEST(RoundRobin, WeightsFiveOneOneGiveNginxDocumentedSequence) {
  SlotTable table({5, 1, 1});
  RoundRobin rr(table);
  const std::vector<SlotId> cycle{a, a, b, a, c, a, a};
  EXPECT_EQ(picks(rr, 7), cycle);
  EXPECT_EQ(picks(rr, 7), cycle) << "the current weights are back to zero after a full cycle";
}

TEST(RoundRobin, WeightsTwoOneInterleave) {
  SlotTable table({2, 1});
  RoundRobin rr(table);
  EXPECT_EQ(picks(rr, 6), (std::vector<SlotId>{a, b, a, a, b, a}));
}

TEST(RoundRobin, EveryCycleGivesEachSlotItsWeight) {
  const std::vector<unsigned> weights{3, 7, 2, 1, 5};
  unsigned total = 0;
  for (unsigned w : weights) total += w;
  SlotTable table(weights);
  RoundRobin rr(table);
  for (int cycle = 0; cycle < 4; ++cycle) {
    std::map<SlotId, unsigned> count;
    for (SlotId s : picks(rr, static_cast<int>(total))) ++count[s];
    for (SlotId s = 0; s < weights.size(); ++s) EXPECT_EQ(count[s], weights[s]) << "slot " << s;
  }
}

TEST(RoundRobin, DownSlotIsSkippedAndComesBackOnUp) {
  SlotTable table({1, 1, 1});
  RoundRobin rr(table);
  rr.on_down(b);
  EXPECT_FALSE(table.usable(b));
  EXPECT_EQ(picks(rr, 4), (std::vector<SlotId>{a, c, a, c}));
  rr.on_up(b);
  EXPECT_TRUE(table.usable(b));
  EXPECT_EQ(picks(rr, 6), (std::vector<SlotId>{a, b, c, a, b, c}));
}

TEST(RoundRobin, SlotDownMidCycleKeepsItsCurrentWeightAsNginx) {
  SlotTable table({1, 1, 1});
  RoundRobin rr(table);
  EXPECT_EQ(rr.pick({}), a);  // a now owes two turns
  rr.on_down(a);
  EXPECT_EQ(picks(rr, 4), (std::vector<SlotId>{b, c, b, c}));
  rr.on_up(a);
  // a still owes its turns, so b and c go first; then the plain rotation resumes.
  EXPECT_EQ(picks(rr, 5), (std::vector<SlotId>{b, c, a, b, c}));
}

TEST(RoundRobin, DownSeenThroughTheSharedTableByEveryInstance) {
  SlotTable table({1, 1});
  RoundRobin first(table);
  RoundRobin second(table);
  first.on_down(a);  // reported on one thread only
  EXPECT_EQ(picks(second, 3), (std::vector<SlotId>{b, b, b}));
}

TEST(RoundRobin, ExcludedSlotsAreNotPicked) {
  SlotTable table({1, 1, 1});
  RoundRobin rr(table);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  EXPECT_EQ(picks(rr, 4, retry), (std::vector<SlotId>{b, c, b, c}));
}

TEST(RoundRobin, ExcludeAndDownTogetherLeaveTheRest) {
  SlotTable table({1, 1, 1});
  RoundRobin rr(table);
  rr.on_down(c);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  EXPECT_EQ(picks(rr, 3, retry), (std::vector<SlotId>{b, b, b}));
}

TEST(RoundRobin, EverySlotExcludedGivesNothing) {
  SlotTable table({1, 1});
  RoundRobin rr(table);
  const std::array<SlotId, 2> tried{b, a};
  RequestView retry;
  retry.exclude = tried;
  EXPECT_EQ(rr.pick(retry), std::nullopt);
}

TEST(RoundRobin, AllDownGivesNothingAndRecovers) {
  SlotTable table({1, 1, 1});
  RoundRobin rr(table);
  rr.on_down(a);
  rr.on_down(b);
  rr.on_down(c);
  EXPECT_EQ(rr.pick({}), std::nullopt);
  EXPECT_EQ(rr.pick({}), std::nullopt);
  rr.on_up(b);
  EXPECT_EQ(picks(rr, 2), (std::vector<SlotId>{b, b}));
}

TEST(RoundRobin, EmptyTableGivesNothing) {
  SlotTable table({});
  RoundRobin rr(table);
  EXPECT_EQ(rr.pick({}), std::nullopt);
}

TEST(RoundRobin, EachInstanceKeepsItsOwnRotation) {
  SlotTable table({1, 1, 1});
  RoundRobin first(table);
  RoundRobin second(table);
  EXPECT_EQ(picks(first, 2), (std::vector<SlotId>{a, b}));
  EXPECT_EQ(picks(second, 2), (std::vector<SlotId>{a, b}));
  EXPECT_EQ(first.pick({}), c);
}

TEST(RoundRobin, PickLeavesInFlightToTheCaller) {
  SlotTable table({1, 1});
  RoundRobin rr(table);
  const SlotId s = *rr.pick({});
  EXPECT_EQ(table.in_flight(s), 0u);
  rr.on_request_start(s);
  EXPECT_EQ(table.in_flight(s), 1u);
  rr.on_request_end(s);
  EXPECT_EQ(table.in_flight(s), 0u);
}

TEST(MakeBalancer, RoundRobinKindBuildsRoundRobinOverTheTable) {
  SlotTable table({5, 1, 1});
  std::unique_ptr<Balancer> balancer = make_balancer(config::Balance::round_robin, table);
  ASSERT_NE(dynamic_cast<RoundRobin*>(balancer.get()), nullptr);
  EXPECT_EQ(&balancer->table(), &table);
  EXPECT_EQ(picks(*balancer, 7), (std::vector<SlotId>{a, a, b, a, c, a, a}));
}

}  // namespace
}  // namespace corral::balancer
