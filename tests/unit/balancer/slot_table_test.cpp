#include "balancer/slot_table.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace corral::balancer {
namespace {

TEST(SlotTable, HoldsOneSlotPerWeight) {
  SlotTable table({3, 1, 2});
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table.weight(0), 3u);
  EXPECT_EQ(table.weight(1), 1u);
  EXPECT_EQ(table.weight(2), 2u);
}

TEST(SlotTable, ZeroWeightCountsAsOne) {
  // A zero weight would make a slot unpickable and break the weighted comparisons.
  SlotTable table({0, 4});
  EXPECT_EQ(table.weight(0), 1u);
  EXPECT_EQ(table.weight(1), 4u);
}

TEST(SlotTable, StartsUsableAndIdle) {
  SlotTable table({1, 1});
  EXPECT_TRUE(table.usable(0));
  EXPECT_TRUE(table.usable(1));
  EXPECT_EQ(table.usable_count(), 2u);
  EXPECT_EQ(table.in_flight(0), 0u);
  EXPECT_EQ(table.in_flight(1), 0u);
}

TEST(SlotTable, UsableCountFollowsSetUsable) {
  SlotTable table({1, 1, 1});
  table.set_usable(1, false);
  EXPECT_FALSE(table.usable(1));
  EXPECT_EQ(table.usable_count(), 2u);
  table.set_usable(0, false);
  table.set_usable(2, false);
  EXPECT_EQ(table.usable_count(), 0u);
  table.set_usable(1, true);
  EXPECT_TRUE(table.usable(1));
  EXPECT_EQ(table.usable_count(), 1u);
}

TEST(SlotTable, InFlightCountsStartedMinusEnded) {
  SlotTable table({1, 1});
  table.request_started(1);
  table.request_started(1);
  table.request_started(0);
  EXPECT_EQ(table.in_flight(0), 1u);
  EXPECT_EQ(table.in_flight(1), 2u);
  table.request_ended(1);
  EXPECT_EQ(table.in_flight(1), 1u);
  EXPECT_EQ(table.in_flight(0), 1u);
}

TEST(SlotTable, InFlightStaysExactUnderConcurrentThreads) {
  SlotTable table({1, 1});
  constexpr int per_thread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) table.request_started(0);
      for (int i = 0; i < per_thread / 2; ++i) table.request_ended(0);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(table.in_flight(0), static_cast<std::uint32_t>(per_thread));
  EXPECT_EQ(table.in_flight(1), 0u);
}

TEST(SlotTable, EmptyTableHasNoUsableSlot) {
  SlotTable table({});
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.usable_count(), 0u);
}

TEST(SlotTable, TryStartStopsAtTheLimit) {
  SlotTable table({1});
  EXPECT_EQ(table.limit(0), SlotTable::no_limit);
  table.set_limit(0, 2);
  EXPECT_TRUE(table.try_start(0));
  EXPECT_TRUE(table.try_start(0));
  EXPECT_FALSE(table.try_start(0));
  EXPECT_FALSE(table.available(0));
  EXPECT_EQ(table.in_flight(0), 2u);
  table.request_ended(0);
  EXPECT_TRUE(table.available(0));
  EXPECT_TRUE(table.try_start(0));
}

TEST(SlotTable, TryStartNeverPassesTheLimitAcrossThreads) {
  SlotTable table({1});
  table.set_limit(0, 5);
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 1000; ++j)
        if (table.try_start(0)) started.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(started.load(), 5);
  EXPECT_EQ(table.in_flight(0), 5u);
}

TEST(SlotTable, TakingASlotOutCountsADown) {
  SlotTable table({1});
  EXPECT_EQ(table.downs(0), 0u);
  table.set_usable(0, false);
  table.set_usable(0, false);  // no change: not another down
  EXPECT_EQ(table.downs(0), 1u);
  table.set_usable(0, true);
  table.set_usable(0, false);
  EXPECT_EQ(table.downs(0), 2u);
}

}  // namespace
}  // namespace corral::balancer
