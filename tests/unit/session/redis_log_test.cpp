// RedisLog: one log line per transition of a Redis server, whatever the number of proxy threads
// (connections) that see it.
#include "session/redis_log.hpp"

#include <gtest/gtest.h>

namespace corral::session {
namespace {

TEST(RedisLog, AnOutageSeenByEveryThreadIsToldOnce) {
  RedisLog log;
  // Three threads connect at start: "connected" once.
  EXPECT_TRUE(log.on_up());
  EXPECT_FALSE(log.on_up());
  EXPECT_FALSE(log.on_up());
  // Redis goes away: each thread loses its connection, "lost" once.
  EXPECT_TRUE(log.on_lost());
  EXPECT_FALSE(log.on_lost());
  EXPECT_FALSE(log.on_lost());
  // Their reconnects fail: the unreachable line once at most.
  EXPECT_TRUE(log.on_unreachable());
  EXPECT_FALSE(log.on_unreachable());
  // Back: "connected" once, by the first thread to reconnect.
  EXPECT_TRUE(log.on_up());
  EXPECT_FALSE(log.on_up());
  EXPECT_FALSE(log.on_up());
  // One thread's connection alone is dropped and made again: both told.
  EXPECT_TRUE(log.on_lost());
  EXPECT_TRUE(log.on_up());
}

TEST(RedisLog, SharedByKey) {
  RedisLog& a = RedisLog::shared("session store 127.0.0.1:1/0");
  EXPECT_EQ(&a, &RedisLog::shared("session store 127.0.0.1:1/0"));
  EXPECT_NE(&a, &RedisLog::shared("sticky store 127.0.0.1:1/0"));
}

}  // namespace
}  // namespace corral::session
