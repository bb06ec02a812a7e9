#include "proxy/compare/fault_schedule.hpp"

#include <gtest/gtest.h>

namespace corral::compare {
namespace {

using namespace std::chrono_literals;

TEST(FaultSchedule, KillsEveryIntervalInsideTheRun) {
  FaultPlan p{5000ms, std::nullopt, std::nullopt};
  auto f = plan_faults(p, 15000ms, false);
  ASSERT_EQ(f.size(), 2u);  // at 5 s and 10 s; 15 s is the end
  EXPECT_EQ(f[0].at, 5000ms);
  EXPECT_EQ(f[1].at, 10000ms);
  EXPECT_EQ(f[1].kind, FaultKind::kill_worker);
}

TEST(FaultSchedule, OrderedWithRestartFirstAtTheSameMoment) {
  FaultPlan p{5000ms, 5000ms, 2000ms};
  auto f = plan_faults(p, 12000ms, true);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].kind, FaultKind::redis_restart);
  EXPECT_EQ(f[1].kind, FaultKind::rolling_restart);
  EXPECT_EQ(f[2].kind, FaultKind::kill_worker);
  EXPECT_EQ(f[3].at, 10000ms);
}

TEST(FaultSchedule, NoRedisRestartWithoutRedisAndNothingOutsideTheRun) {
  FaultPlan p{0ms, 20000ms, 1000ms};
  EXPECT_TRUE(plan_faults(p, 10000ms, false).empty());
}

}  // namespace
}  // namespace corral::compare
