#include "session/session_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace corral::session {
namespace {

using clock = SessionCache::clock;

SessionId id(int n) {
  SessionId out;
  out.text.fill('A');
  auto s = std::to_string(n);
  std::copy(s.begin(), s.end(), out.text.begin());
  return out;
}

TEST(SessionCache, StoresNothingUntilEnabled) {
  SessionCache c(10, 1 << 20);
  EXPECT_FALSE(c.store(id(1), "{}", clock::now(), c.epoch()));
  EXPECT_EQ(c.find(id(1)), nullptr);
  c.enable();
  EXPECT_TRUE(c.store(id(1), R"({"u":1})", clock::now(), c.epoch()));
  ASSERT_NE(c.find(id(1)), nullptr);
  EXPECT_EQ(c.find(id(1))->json, R"({"u":1})");
}

TEST(SessionCache, ALoadThatStartedBeforeAnInvalidationIsNotKept) {
  SessionCache c(10, 1 << 20);
  c.enable();
  auto started = c.epoch();
  c.erase(id(2));  // an invalidation of any key while the load was in flight
  EXPECT_FALSE(c.store(id(1), "{}", clock::now(), started));
  EXPECT_EQ(c.find(id(1)), nullptr);
  EXPECT_TRUE(c.store(id(1), "{}", clock::now(), c.epoch()));
}

TEST(SessionCache, EraseClearAndDisableDropEntries) {
  SessionCache c(10, 1 << 20);
  c.enable();
  c.store(id(1), "{}", clock::now(), c.epoch());
  c.store(id(2), "{}", clock::now(), c.epoch());
  c.erase(id(1));
  EXPECT_EQ(c.find(id(1)), nullptr);
  EXPECT_NE(c.find(id(2)), nullptr);
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
  c.store(id(3), "{}", clock::now(), c.epoch());
  c.disable();
  EXPECT_EQ(c.find(id(3)), nullptr);
  EXPECT_FALSE(c.store(id(3), "{}", clock::now(), c.epoch()));
}

TEST(SessionCache, EvictsTheLeastRecentlyUsedBeyondMaxEntries) {
  SessionCache c(3, 1 << 20);
  c.enable();
  for (int i = 1; i <= 3; ++i) c.store(id(i), "{}", clock::now(), c.epoch());
  c.find(id(1));  // 2 is now the least recently used
  c.store(id(4), "{}", clock::now(), c.epoch());
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.find(id(2)), nullptr);
  EXPECT_NE(c.find(id(1)), nullptr);
  EXPECT_NE(c.find(id(4)), nullptr);
}

TEST(SessionCache, EvictsBeyondMaxBytesAndSkipsAnEntryLargerThanAll) {
  std::string big(1000, 'x');
  SessionCache c(100, 3 * SessionCache::cost(big.size()));
  c.enable();
  for (int i = 1; i <= 4; ++i) c.store(id(i), big, clock::now(), c.epoch());
  EXPECT_EQ(c.size(), 3u);
  EXPECT_LE(c.bytes(), 3 * SessionCache::cost(big.size()));
  EXPECT_EQ(c.find(id(1)), nullptr);
  EXPECT_FALSE(c.store(id(9), std::string(5000, 'y'), clock::now(), c.epoch()));
  EXPECT_EQ(c.find(id(9)), nullptr);
}

TEST(SessionCache, StoringAgainReplacesTheEntryAndItsCost) {
  SessionCache c(10, 1 << 20);
  c.enable();
  c.store(id(1), "{}", clock::now(), c.epoch());
  c.store(id(1), R"({"a":12345})", clock::now(), c.epoch());
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.bytes(), SessionCache::cost(11));
  EXPECT_EQ(c.find(id(1))->json, R"({"a":12345})");
}

TEST(SessionCache, ZeroEntriesKeepsNothing) {
  SessionCache c(0, 1 << 20);
  c.enable();
  EXPECT_FALSE(c.store(id(1), "{}", clock::now(), c.epoch()));
  EXPECT_EQ(c.size(), 0u);
}

}  // namespace
}  // namespace corral::session
