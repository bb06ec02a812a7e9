#include "proxy/master/restart_policy.hpp"

#include <gtest/gtest.h>

namespace corral::master {
namespace {

using config::Duration;
using namespace std::chrono_literals;

config::WorkerRestart policy() {
  config::WorkerRestart p;
  p.backoff = 100ms;
  p.max_backoff = 15s;
  p.reset_after = 30s;
  p.min_uptime = 1s;
  p.crash_loop = 5;
  return p;
}

constexpr double no_jitter = 0.5;  // factor 0.8 + 0.4 * 0.5 = 1

TEST(BackoffDelay, DoublesPerCrashInARow) {
  EXPECT_EQ(backoff_delay(policy(), 1, no_jitter), 100ms);
  EXPECT_EQ(backoff_delay(policy(), 2, no_jitter), 200ms);
  EXPECT_EQ(backoff_delay(policy(), 3, no_jitter), 400ms);
  EXPECT_EQ(backoff_delay(policy(), 8, no_jitter), 12800ms);
}

TEST(BackoffDelay, CappedAtMaxBackoff) {
  EXPECT_EQ(backoff_delay(policy(), 9, no_jitter), 15s);
  EXPECT_EQ(backoff_delay(policy(), 1000, no_jitter), 15s);
  EXPECT_EQ(backoff_delay(policy(), 9, 0.99), 15s);  // jitter never goes past the cap
}

TEST(BackoffDelay, JitterIsTwentyPercentEitherWay) {
  EXPECT_EQ(backoff_delay(policy(), 1, 0.0), 80ms);
  EXPECT_EQ(backoff_delay(policy(), 1, 1.0), 120ms);
  EXPECT_EQ(backoff_delay(policy(), 3, 0.25), 360ms);
}

TEST(DecideRestart, QuickCrashesCountUp) {
  // Died before it became ready, or within min_uptime of its start: a failed start.
  RestartDecision d = decide_restart(policy(), 0, 2s, false, no_jitter);
  EXPECT_EQ(d.crashes_in_a_row, 1u);
  EXPECT_FALSE(d.errored);
  EXPECT_EQ(d.delay, 100ms);
  d = decide_restart(policy(), 1, 500ms, true, no_jitter);
  EXPECT_EQ(d.crashes_in_a_row, 2u);
  EXPECT_EQ(d.delay, 200ms);
}

TEST(DecideRestart, LongUptimeStartsTheCountAgain) {
  RestartDecision d = decide_restart(policy(), 4, 30s, false, no_jitter);
  EXPECT_EQ(d.crashes_in_a_row, 1u);
  EXPECT_FALSE(d.errored);
  EXPECT_EQ(d.delay, 100ms);
}

TEST(DecideRestart, AWorkerThatWasReadyPastMinUptimeIsNoCrashLoop) {
  // The article's workers: ready, serving, then exit(1) a few seconds in, again and again.
  for (unsigned before = 0; before < 50; ++before) {
    RestartDecision d = decide_restart(policy(), before, 1500ms, true, no_jitter);
    EXPECT_EQ(d.crashes_in_a_row, 1u);
    EXPECT_FALSE(d.errored);
    EXPECT_EQ(d.delay, 100ms);
  }
  EXPECT_EQ(decide_restart(policy(), 4, 1s, true, no_jitter).crashes_in_a_row, 1u);
  // Not ready after 20 s and dead: still a failed start (reset_after is 30 s).
  EXPECT_EQ(decide_restart(policy(), 4, 20s, false, no_jitter).crashes_in_a_row, 5u);
}

TEST(DecideRestart, CrashLoopMarksErroredAndWaitsMaxBackoff) {
  RestartDecision d = decide_restart(policy(), 4, 900ms, true, no_jitter);
  EXPECT_EQ(d.crashes_in_a_row, 5u);
  EXPECT_TRUE(d.errored);
  EXPECT_EQ(d.delay, 15s);
  d = decide_restart(policy(), 5, 0s, false, 0.0);  // failed starts go on at max backoff
  EXPECT_TRUE(d.errored);
  EXPECT_EQ(d.delay, 15s);
}

TEST(DecideRestart, CrashLoopOfOne) {
  auto p = policy();
  p.crash_loop = 1;
  EXPECT_TRUE(decide_restart(p, 0, 1s, false, no_jitter).errored);
  EXPECT_TRUE(decide_restart(p, 0, 500ms, true, no_jitter).errored);
  EXPECT_FALSE(decide_restart(p, 0, 31s, false, no_jitter).errored);
}

}  // namespace
}  // namespace corral::master
