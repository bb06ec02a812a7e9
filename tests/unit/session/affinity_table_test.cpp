#include "session/affinity_table.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace corral::session {
namespace {

using namespace std::chrono_literals;
using TimePoint = AffinityTable::TimePoint;

// An injected clock reading `s` seconds after an arbitrary origin.
TimePoint at(long long s) { return TimePoint{std::chrono::seconds{s}}; }

constexpr long long t0 = 1'000'000;

AffinityTableOptions one_shard(std::size_t max_entries, std::chrono::seconds idle_ttl = 30min) {
  AffinityTableOptions o;
  o.max_entries = max_entries;
  o.idle_ttl = idle_ttl;
  o.shards = 1;
  return o;
}

std::string key_number(int i) { return "s%3A" + std::to_string(i) + ".session-signature-xyz"; }

TEST(AffinityTable, LearnedKeyLeadsToItsSlot) {
  AffinityTable table;
  table.learn("alice", 2, at(t0));
  table.learn("bob", 0, at(t0));
  EXPECT_EQ(table.lookup("alice", at(t0 + 1)), 2u);
  EXPECT_EQ(table.lookup("bob", at(t0 + 1)), 0u);
  EXPECT_EQ(table.lookup("carol", at(t0 + 1)), std::nullopt);
  EXPECT_EQ(table.size(), 2u);
  const AffinityCounters n = table.counters();
  EXPECT_EQ(n.learned, 2u);
  EXPECT_EQ(n.hits, 2u);
  EXPECT_EQ(n.misses, 1u);
}

TEST(AffinityTable, RelearningMovesTheKeyAndCountsOnlyChanges) {
  AffinityTable table;
  table.learn("alice", 2, at(t0));
  table.learn("alice", 2, at(t0 + 1));
  EXPECT_EQ(table.counters().learned, 1u) << "the same pin again only refreshes it";
  table.learn("alice", 1, at(t0 + 2));
  EXPECT_EQ(table.lookup("alice", at(t0 + 3)), 1u);
  EXPECT_EQ(table.counters().learned, 2u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(AffinityTable, EvictsTheLeastRecentlyUsed) {
  AffinityTable table(one_shard(3));
  table.learn("a", 0, at(t0));
  table.learn("b", 1, at(t0 + 1));
  table.learn("c", 2, at(t0 + 2));
  EXPECT_EQ(table.lookup("a", at(t0 + 3)), 0u);  // a is now the most recent; b the least
  table.learn("d", 3, at(t0 + 4));
  EXPECT_EQ(table.lookup("b", at(t0 + 5)), std::nullopt);
  table.learn("e", 4, at(t0 + 6));  // c goes next
  EXPECT_EQ(table.lookup("c", at(t0 + 7)), std::nullopt);
  EXPECT_EQ(table.lookup("a", at(t0 + 8)), 0u);
  EXPECT_EQ(table.lookup("d", at(t0 + 8)), 3u);
  EXPECT_EQ(table.lookup("e", at(t0 + 8)), 4u);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.counters().evicted, 2u);
}

TEST(AffinityTable, RelearningRefreshesRecency) {
  AffinityTable table(one_shard(2));
  table.learn("a", 0, at(t0));
  table.learn("b", 1, at(t0));
  table.learn("a", 0, at(t0 + 1));
  table.learn("c", 2, at(t0 + 2));
  EXPECT_EQ(table.lookup("a", at(t0 + 3)), 0u);
  EXPECT_EQ(table.lookup("b", at(t0 + 3)), std::nullopt);
}

TEST(AffinityTable, EntriesExpireAfterIdleTtlWithoutUse) {
  AffinityTable table(one_shard(10, 60s));
  table.learn("a", 1, at(t0));
  EXPECT_EQ(table.lookup("a", at(t0 + 59)), 1u);             // idle 59 s; refreshed
  EXPECT_EQ(table.lookup("a", at(t0 + 118)), 1u);            // idle 59 s again
  EXPECT_EQ(table.lookup("a", at(t0 + 178)), std::nullopt);  // idle 60 s: gone
  EXPECT_EQ(table.size(), 0u);
  const AffinityCounters n = table.counters();
  EXPECT_EQ(n.expired, 1u);
  EXPECT_EQ(n.misses, 1u);
  EXPECT_EQ(n.hits, 2u);
}

TEST(AffinityTable, AClockReadingFromJustBeforeTheLastUseIsNotIdleness) {
  AffinityTable table(one_shard(10, 60s));
  table.learn("a", 1, at(t0 + 10));
  EXPECT_EQ(table.lookup("a", at(t0 + 9)), 1u);
}

TEST(AffinityTable, ZeroTtlNeverExpires) {
  AffinityTable table(one_shard(10, 0s));
  table.learn("a", 1, at(t0));
  EXPECT_EQ(table.lookup("a", at(t0 + 100'000'000)), 1u);
  EXPECT_EQ(table.sweep(at(t0 + 200'000'000)), 0u);
}

TEST(AffinityTable, ExpiredEntriesMakeRoomBeforeLiveOnesAreEvicted) {
  AffinityTable table(one_shard(2, 10s));
  table.learn("a", 0, at(t0));
  table.learn("b", 1, at(t0 + 5));
  table.learn("c", 2, at(t0 + 12));  // a is idle 12 s: expired, so b stays
  EXPECT_EQ(table.lookup("b", at(t0 + 13)), 1u);
  EXPECT_EQ(table.lookup("c", at(t0 + 13)), 2u);
  EXPECT_EQ(table.counters().expired, 1u);
  EXPECT_EQ(table.counters().evicted, 0u);
}

TEST(AffinityTable, SweepDropsEveryExpiredEntry) {
  AffinityTableOptions options;
  options.idle_ttl = 60s;
  AffinityTable table(options);
  for (int i = 0; i < 100; ++i) table.learn(key_number(i), 0, at(t0));
  for (int i = 100; i < 150; ++i) table.learn(key_number(i), 1, at(t0 + 30));
  EXPECT_EQ(table.sweep(at(t0 + 59)), 0u);
  EXPECT_EQ(table.sweep(at(t0 + 61)), 100u);
  EXPECT_EQ(table.size(), 50u);
  EXPECT_EQ(table.counters().expired, 100u);
  EXPECT_EQ(table.lookup(key_number(120), at(t0 + 62)), 1u);
}

TEST(AffinityTable, ForgetDropsAKey) {
  AffinityTable table;
  table.learn("a", 1, at(t0));
  table.learn("b", 2, at(t0));
  EXPECT_TRUE(table.forget("a"));
  EXPECT_FALSE(table.forget("a"));
  EXPECT_FALSE(table.forget("never"));
  EXPECT_EQ(table.lookup("a", at(t0)), std::nullopt);
  EXPECT_EQ(table.lookup("b", at(t0)), 2u);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.counters().forgotten, 1u);
}

TEST(AffinityTable, RemovalsKeepEveryOtherKeyReachable) {
  // Removing from the middle of probe runs and of the LRU list, many times over.
  AffinityTable table(one_shard(2000));
  for (int i = 0; i < 2000; ++i) table.learn(key_number(i), i % 7, at(t0));
  for (int i = 0; i < 2000; i += 3) ASSERT_TRUE(table.forget(key_number(i)));
  for (int i = 0; i < 2000; ++i) {
    const auto got = table.lookup(key_number(i), at(t0 + 1));
    if (i % 3 == 0)
      EXPECT_EQ(got, std::nullopt) << i;
    else
      EXPECT_EQ(got, static_cast<SlotId>(i % 7)) << i;
  }
  // Refill past the bound: the least recently used go, in order.
  for (int i = 2000; i < 3000; ++i) table.learn(key_number(i), 1, at(t0 + 2));
  EXPECT_EQ(table.size(), 2000u);
  EXPECT_EQ(table.counters().evicted, 1000u - 667u);
}

TEST(AffinityTable, AMillionUnknownKeysDoNotGrowTheTable) {
  AffinityTable table;
  for (int i = 0; i < 1000; ++i) table.learn(key_number(i), i % 4, at(t0));
  const std::size_t bytes = table.memory_bytes();
  std::mt19937_64 random(42);
  char key[32];
  for (int i = 0; i < 1'000'000; ++i) {
    for (char& c : key) c = static_cast<char>('a' + random() % 26);
    ASSERT_EQ(table.lookup(std::string_view(key, sizeof key), at(t0 + 1)), std::nullopt);
  }
  EXPECT_EQ(table.size(), 1000u);
  EXPECT_EQ(table.memory_bytes(), bytes);
  EXPECT_EQ(table.counters().misses, 1'000'000u);
  EXPECT_EQ(table.counters().hits, 0u);
}

TEST(AffinityTable, StaysWithinMaxEntriesAcrossShards) {
  AffinityTableOptions options;
  options.max_entries = 1000;
  options.shards = 16;
  AffinityTable table(options);
  for (int i = 0; i < 5000; ++i) table.learn(key_number(i), 0, at(t0));
  EXPECT_LE(table.size(), 1000u);
  EXPECT_GE(table.size(), 950u) << "per-shard bounds fill unevenly, but not by much";
  EXPECT_EQ(table.counters().evicted, 5000u - table.size());
}

TEST(AffinityTable, ShardCountIsAPowerOfTwoNoLargerThanMaxEntries) {
  AffinityTableOptions options;
  options.shards = 10;
  EXPECT_EQ(AffinityTable(options).shard_count(), 8u);
  options.shards = 16;
  options.max_entries = 3;
  EXPECT_EQ(AffinityTable(options).shard_count(), 2u);
  options.shards = 0;
  EXPECT_EQ(AffinityTable(options).shard_count(), 1u);
}

TEST(AffinityTable, ZeroMaxEntriesLearnsNothing) {
  AffinityTable table(one_shard(0));
  table.learn("a", 1, at(t0));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.lookup("a", at(t0)), std::nullopt);
}

TEST(AffinityTable, CountsSessionsPerSlot) {
  AffinityTable table(one_shard(100, 60s));
  table.learn("a", 0, at(t0));
  table.learn("b", 2, at(t0 + 30));
  table.learn("c", 2, at(t0 + 30));
  table.learn("d", 9, at(t0 + 30));  // a slot past the count: not counted
  EXPECT_EQ(table.sessions_per_slot(3, at(t0 + 1)), (std::vector<std::size_t>{1, 0, 2}));
  EXPECT_EQ(table.sessions_per_slot(3, at(t0 + 61)), (std::vector<std::size_t>{0, 0, 2}))
      << "expired entries are not sessions";
}

TEST(AffinityTable, SnapshotRoundTripKeepsSlotsAndAges) {
  AffinityTable old_table(one_shard(100, 60s));
  old_table.learn("young", 1, at(t0 + 40));  // idle 10 s at the snapshot
  old_table.learn("old", 2, at(t0));         // idle 50 s
  old_table.learn("gone", 3, at(t0 - 20));   // idle 70 s: expired, not written
  const std::string bytes = old_table.snapshot(at(t0 + 50));
  EXPECT_EQ(bytes.size(), 16u + 2 * 16u);

  // The next generation's clock has another origin.
  constexpr long long r = 5'000;
  AffinityTableOptions options;
  options.idle_ttl = 60s;
  AffinityTable table(options);
  ASSERT_TRUE(table.restore(bytes, at(r)));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.lookup("old", at(r + 11)), std::nullopt) << "idle 61 s by now";
  EXPECT_EQ(table.lookup("young", at(r + 11)), 1u);
  EXPECT_EQ(table.lookup("gone", at(r)), std::nullopt);
  EXPECT_EQ(table.counters().learned, 0u) << "restored entries were not learned here";
}

TEST(AffinityTable, SnapshotKeepsRecencyOrderForASmallerTable) {
  AffinityTable old_table(one_shard(10));
  old_table.learn("a", 0, at(t0));
  old_table.learn("b", 1, at(t0 + 1));
  old_table.learn("c", 2, at(t0 + 2));
  old_table.lookup("a", at(t0 + 3));  // recency now b, c, a
  AffinityTable table(one_shard(2));
  ASSERT_TRUE(table.restore(old_table.snapshot(at(t0 + 4)), at(t0 + 4)));
  EXPECT_EQ(table.lookup("b", at(t0 + 5)), std::nullopt);
  EXPECT_EQ(table.lookup("c", at(t0 + 5)), 2u);
  EXPECT_EQ(table.lookup("a", at(t0 + 5)), 0u);
}

TEST(AffinityTable, SnapshotOfManyEntriesRestoresIntoAnotherShardCount) {
  AffinityTableOptions options;
  options.shards = 16;
  AffinityTable old_table(options);
  for (int i = 0; i < 10'000; ++i) old_table.learn(key_number(i), i % 5, at(t0));
  options.shards = 4;
  AffinityTable table(options);
  ASSERT_TRUE(table.restore(old_table.snapshot(at(t0 + 1)), at(t0 + 1)));
  EXPECT_EQ(table.size(), 10'000u);
  for (int i = 0; i < 10'000; ++i)
    ASSERT_EQ(table.lookup(key_number(i), at(t0 + 2)), static_cast<SlotId>(i % 5)) << i;
}

TEST(AffinityTable, RestoreKeepsTheMoreRecentPinOfAKey) {
  AffinityTable old_table(one_shard(10));
  old_table.learn("a", 1, at(t0));
  old_table.learn("b", 1, at(t0));
  const std::string bytes = old_table.snapshot(at(t0 + 10));  // both idle 10 s
  AffinityTable table(one_shard(10));
  table.learn("a", 2, at(t0 + 5));  // more recent than the snapshot's
  table.learn("b", 2, at(t0 - 5));  // older
  ASSERT_TRUE(table.restore(bytes, at(t0 + 10)));
  EXPECT_EQ(table.lookup("a", at(t0 + 11)), 2u);
  EXPECT_EQ(table.lookup("b", at(t0 + 11)), 1u);
}

TEST(AffinityTable, RestoreRejectsWhatIsNotASnapshot) {
  AffinityTable table(one_shard(10));
  table.learn("a", 1, at(t0));
  AffinityTable source(one_shard(10));
  source.learn("x", 1, at(t0));
  source.learn("y", 2, at(t0));
  const std::string good = source.snapshot(at(t0));
  std::string wrong_version = good;
  wrong_version[4] = 2;
  std::string wrong_count = good;
  wrong_count[8] = 3;
  for (const std::string& bad :
       {std::string{}, std::string("CRAT"), good.substr(0, good.size() - 1), good + '\0',
        std::string("XXXX") + good.substr(4), wrong_version, wrong_count}) {
    EXPECT_FALSE(table.restore(bad, at(t0)));
  }
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.lookup("x", at(t0)), std::nullopt);
  EXPECT_TRUE(table.restore(good, at(t0)));
  EXPECT_EQ(table.size(), 3u);
}

TEST(AffinityTable, EmptyTableSnapshotRestores) {
  AffinityTable source;
  AffinityTable table;
  EXPECT_EQ(source.snapshot(at(t0)).size(), 16u);
  EXPECT_TRUE(table.restore(source.snapshot(at(t0)), at(t0)));
  EXPECT_EQ(table.size(), 0u);
}

TEST(AffinityTable, ThreadsLearnAndLookUpConcurrently) {
  AffinityTable table;  // room for all: no eviction between a learn and its lookup
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&table, t] {
      for (int i = 0; i < 20'000; ++i) {
        const std::string key = key_number(t * 100'000 + i);
        table.learn(key, static_cast<SlotId>(t), at(t0));
        ASSERT_EQ(table.lookup(key, at(t0)), static_cast<SlotId>(t));
        if (i % 5 == 0) {
          ASSERT_TRUE(table.forget(key));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(table.size(), 64'000u);
  const AffinityCounters n = table.counters();
  EXPECT_EQ(n.learned, 80'000u);
  EXPECT_EQ(n.hits, 80'000u);
  EXPECT_EQ(n.forgotten, 16'000u);
}

}  // namespace
}  // namespace corral::session
