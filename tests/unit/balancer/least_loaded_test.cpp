#include "balancer/least_loaded.hpp"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <vector>

#include "balancer/balancer.hpp"
#include "balancer/slot_table.hpp"

namespace corral::balancer {
namespace {

// The next `n` picks without starting requests, so the loads stay as they are.
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

// The next `n` picks, each starting a request on its slot that never ends, the way a burst of
// slow requests loads the pool.
std::vector<SlotId> picks_started(Balancer& balancer, int n) {
  std::vector<SlotId> out;
  for (int i = 0; i < n; ++i) {
    std::optional<SlotId> s = balancer.pick({});
    EXPECT_TRUE(s.has_value()) << "pick " << i << " found no slot";
    if (!s) break;
    balancer.on_request_start(*s);
    out.push_back(*s);
  }
  return out;
}

void start(Balancer& balancer, SlotId s, int times) {
  for (int i = 0; i < times; ++i) balancer.on_request_start(s);
}

constexpr SlotId a = 0, b = 1, c = 2;

TEST(LeastLoaded, AvoidsTheSlotWithMoreInFlight) {
  SlotTable table({1, 1, 1});
  LeastLoaded ll(table);
  start(ll, a, 2);
  start(ll, b, 1);
  EXPECT_EQ(picks(ll, 3), (std::vector<SlotId>{c, c, c}));
  start(ll, c, 2);  // loads now a=2 b=1 c=2
  EXPECT_EQ(picks(ll, 3), (std::vector<SlotId>{b, b, b}));
}

TEST(LeastLoaded, RequestEndMakesASlotFavouredAgain) {
  SlotTable table({1, 1});
  LeastLoaded ll(table);
  start(ll, a, 2);
  start(ll, b, 1);
  EXPECT_EQ(ll.pick({}), b);
  ll.on_request_end(a);
  ll.on_request_end(a);  // loads now a=0 b=1
  EXPECT_EQ(ll.pick({}), a);
}

TEST(LeastLoaded, IdleEqualWeightsTiesRotate) {
  SlotTable table({1, 1, 1});
  LeastLoaded ll(table);
  EXPECT_EQ(picks(ll, 7), (std::vector<SlotId>{a, b, c, a, b, c, a}));
}

TEST(LeastLoaded, IdleTiesRotateByWeight) {
  SlotTable table({2, 1});
  LeastLoaded ll(table);
  EXPECT_EQ(picks(ll, 6), (std::vector<SlotId>{a, b, a, a, b, a}));
}

TEST(LeastLoaded, TiesRotateOnlyAmongTheTied) {
  SlotTable table({1, 1, 1});
  LeastLoaded ll(table);
  start(ll, b, 1);  // a and c tie at zero
  EXPECT_EQ(picks(ll, 4), (std::vector<SlotId>{a, c, a, c}));
}

TEST(LeastLoaded, StartedRequestsSpreadEvenly) {
  SlotTable table({1, 1, 1});
  LeastLoaded ll(table);
  // Each round of three gives every slot one more request; the order within a round comes
  // from the round-robin tie break, whose current weights carry over from round to round.
  EXPECT_EQ(picks_started(ll, 9), (std::vector<SlotId>{a, b, c, c, b, a, a, b, c}));
  EXPECT_EQ(table.in_flight(a), 3u);
  EXPECT_EQ(table.in_flight(b), 3u);
  EXPECT_EQ(table.in_flight(c), 3u);
}

TEST(LeastLoaded, WeightScalesTheLoadASlotTakes) {
  SlotTable table({3, 1});
  LeastLoaded ll(table);
  start(ll, a, 2);
  start(ll, b, 1);
  EXPECT_EQ(ll.pick({}), a) << "2/3 is below 1/1";
  start(ll, a, 2);
  EXPECT_EQ(ll.pick({}), b) << "4/3 is above 1/1";
}

TEST(LeastLoaded, WeightedTieIsBrokenByWeightedRotation) {
  SlotTable table({3, 1});
  LeastLoaded ll(table);
  start(ll, a, 3);
  start(ll, b, 1);  // 3/3 == 1/1
  EXPECT_EQ(picks(ll, 8), (std::vector<SlotId>{a, a, b, a, a, a, b, a}));
}

TEST(LeastLoaded, StartedRequestsFollowTheWeights) {
  SlotTable table({3, 1});
  LeastLoaded ll(table);
  picks_started(ll, 40);
  EXPECT_EQ(table.in_flight(a), 30u);
  EXPECT_EQ(table.in_flight(b), 10u);
}

TEST(LeastLoaded, DownSlotIsSkippedEvenWhenIdleAndComesBackOnUp) {
  SlotTable table({1, 1});
  LeastLoaded ll(table);
  start(ll, b, 5);
  ll.on_down(a);
  EXPECT_EQ(picks(ll, 2), (std::vector<SlotId>{b, b}));
  ll.on_up(a);
  EXPECT_EQ(ll.pick({}), a);
}

TEST(LeastLoaded, ExcludedSlotIsSkippedEvenWhenLeastLoaded) {
  SlotTable table({1, 1, 1});
  LeastLoaded ll(table);
  start(ll, b, 1);
  start(ll, c, 2);
  const std::array<SlotId, 1> tried{a};
  RequestView retry;
  retry.exclude = tried;
  EXPECT_EQ(ll.pick(retry), b);
}

TEST(LeastLoaded, AllDownGivesNothing) {
  SlotTable table({1, 1});
  LeastLoaded ll(table);
  ll.on_down(a);
  ll.on_down(b);
  EXPECT_EQ(ll.pick({}), std::nullopt);
  ll.on_up(b);
  EXPECT_EQ(ll.pick({}), b);
}

TEST(LeastLoaded, RemainingSlotsDownOrExcludedGivesNothing) {
  SlotTable table({1, 1, 1});
  LeastLoaded ll(table);
  ll.on_down(b);
  const std::array<SlotId, 2> tried{c, a};
  RequestView retry;
  retry.exclude = tried;
  EXPECT_EQ(ll.pick(retry), std::nullopt);
}

TEST(LeastLoaded, InFlightIsSharedAcrossInstances) {
  SlotTable table({1, 1});
  LeastLoaded first(table);
  LeastLoaded second(table);
  start(first, a, 1);  // started on another thread
  EXPECT_EQ(picks(second, 2), (std::vector<SlotId>{b, b}));
  first.on_request_end(a);
  start(second, b, 1);
  EXPECT_EQ(first.pick({}), a);
}

TEST(LeastLoaded, EventsMoveTheSharedInFlightCount) {
  SlotTable table({1, 1});
  LeastLoaded ll(table);
  ll.on_request_start(b);
  ll.on_request_start(b);
  EXPECT_EQ(table.in_flight(a), 0u);
  EXPECT_EQ(table.in_flight(b), 2u);
  ll.on_request_end(b);
  EXPECT_EQ(table.in_flight(b), 1u);
}

TEST(MakeBalancer, LeastLoadedKindBuildsLeastLoadedOverTheTable) {
  SlotTable table({1, 1});
  std::unique_ptr<Balancer> balancer = make_balancer(config::Balance::least_loaded, table);
  ASSERT_NE(dynamic_cast<LeastLoaded*>(balancer.get()), nullptr);
  EXPECT_EQ(&balancer->table(), &table);
  balancer->on_request_start(a);
  EXPECT_EQ(balancer->pick({}), b);
}

}  // namespace
}  // namespace corral::balancer
