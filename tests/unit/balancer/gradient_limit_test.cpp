#include "balancer/gradient_limit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

namespace corral::balancer {
namespace {

using namespace std::chrono_literals;
using time_point = GradientLimit::time_point;
using duration = GradientLimit::duration;

// A worker behind the limit, on a fake clock, with a closed loop of `clients` that never think.
// cpu: each request needs `service` of the worker's single thread, served in arrival order.
// io: each request takes `service` whatever else runs (it waits on a database).
struct SimulatedWorker {
  enum class Kind { cpu, io } kind;
  duration service;
  unsigned clients;

  struct InFlight {
    time_point dispatched;
    time_point done;
  };

  // Runs for `length` and returns the limit after each window-sized step.
  std::vector<unsigned> run(GradientLimit& limit, time_point& now, duration length) {
    std::vector<unsigned> limits;
    std::deque<InFlight> running;
    time_point busy_until = now;
    const time_point end = now + length;
    time_point next_mark = now + 100ms;
    while (now < end) {
      // Dispatch up to the limit (the queue is always full: clients >= limit).
      while (running.size() < std::min<std::size_t>(limit.limit(), clients)) {
        InFlight r{now, {}};
        if (kind == Kind::cpu) {
          busy_until = std::max(busy_until, now) + service;
          r.done = busy_until;
        } else {
          r.done = now + service;
        }
        running.push_back(r);
      }
      // Next completion.
      auto next = std::min_element(running.begin(), running.end(),
                                   [](const InFlight& a, const InFlight& b) { return a.done < b.done; });
      now = next->done;
      const InFlight r = *next;
      running.erase(next);
      limit.on_sample(now, r.dispatched, now - r.dispatched,
                      static_cast<unsigned>(running.size() + 1), 0.5);
      if (now >= next_mark) {
        limits.push_back(limit.limit());
        next_mark = now + 100ms;
      }
    }
    return limits;
  }
};

TEST(GradientLimit, StartsByProbingAtOne) {
  time_point now{};
  GradientLimit limit({}, now);
  EXPECT_TRUE(limit.probing());
  EXPECT_EQ(limit.limit(), 1u);
}

TEST(GradientLimit, ProbeTakesTheMedianOfItsSamplesAsMinRtt) {
  time_point now = time_point{} + 1s;
  GradientLimit::Options o;
  o.probe_samples = 5;
  GradientLimit limit(o, now);
  for (auto ms : {5, 7, 3, 100, 4}) {
    now += 200ms;
    limit.on_sample(now, now - std::chrono::milliseconds(ms), std::chrono::milliseconds(ms), 1, 0.5);
  }
  EXPECT_FALSE(limit.probing());
  EXPECT_EQ(limit.min_rtt(), 5ms);
}

TEST(GradientLimit, SamplesFromBeforeTheProbeAreIgnored) {
  time_point now = time_point{} + 1s;
  GradientLimit::Options o;
  o.probe_samples = 3;
  GradientLimit limit(o, now);
  for (int i = 0; i < 10; ++i) limit.on_sample(now + 1ms, now - 500ms, 500ms, 8, 0.5);
  EXPECT_TRUE(limit.probing());
}

TEST(GradientLimit, ACpuBoundWorkerSettlesAtAHandful) {
  time_point now{};
  GradientLimit limit({}, now);
  SimulatedWorker w{SimulatedWorker::Kind::cpu, 3ms, 200};
  auto limits = w.run(limit, now, 20s);
  ASSERT_GT(limits.size(), 100u);
  // After the first second, every window's limit stays small: one running, one or two behind.
  for (std::size_t i = 10; i < limits.size(); ++i) {
    EXPECT_GE(limits[i], 1u) << i;
    EXPECT_LE(limits[i], 6u) << i;
  }
  std::vector<unsigned> tail(limits.end() - 50, limits.end());
  std::sort(tail.begin(), tail.end());
  EXPECT_EQ(tail[tail.size() / 2], 2u);
}

TEST(GradientLimit, AnIoBoundWorkerGrowsToTheDemand) {
  time_point now{};
  GradientLimit limit({}, now);
  SimulatedWorker w{SimulatedWorker::Kind::io, 50ms, 200};
  auto limits = w.run(limit, now, 20s);
  EXPECT_GE(limits.back(), 200u);
  // ...and not far past it: beyond twice the demand, more room tells nothing.
  EXPECT_LE(*std::max_element(limits.begin(), limits.end()), 1000u);
}

TEST(GradientLimit, DoesNotGrowWhileTheDemandIsLow) {
  time_point now{};
  GradientLimit limit({}, now);
  SimulatedWorker w{SimulatedWorker::Kind::io, 10ms, 3};
  auto limits = w.run(limit, now, 10s);
  EXPECT_LE(limits.back(), 8u);
}

TEST(GradientLimit, ShrinksWhenTheWorkerSlowsDown) {
  time_point now{};
  GradientLimit limit({}, now);
  SimulatedWorker io{SimulatedWorker::Kind::io, 20ms, 100};
  io.run(limit, now, 5s);
  ASSERT_GE(limit.limit(), 50u);
  // The same worker turns CPU-bound (its database is now in-process): latency grows with L.
  // The gradient pulls the limit down at once; the next probe (30 s, +15 %) measures the new
  // unloaded latency and it settles as low as for any CPU-bound worker.
  SimulatedWorker cpu{SimulatedWorker::Kind::cpu, 2ms, 100};
  auto limits = cpu.run(limit, now, 40s);
  EXPECT_LE(limits[20], 20u);
  EXPECT_LE(limits.back(), 6u);
}

TEST(GradientLimit, RestartProbesAgain) {
  time_point now{};
  GradientLimit limit({}, now);
  SimulatedWorker w{SimulatedWorker::Kind::io, 10ms, 100};
  w.run(limit, now, 3s);
  ASSERT_GT(limit.limit(), 1u);
  limit.restart(now);
  EXPECT_TRUE(limit.probing());
  EXPECT_EQ(limit.limit(), 1u);
}

TEST(GradientLimit, ALiftEndsAStuckProbeAndDoubles) {
  time_point now{};
  GradientLimit limit({}, now);
  ASSERT_TRUE(limit.probing());
  EXPECT_EQ(limit.stall_after(), 250ms);  // nothing measured yet
  limit.lift(now + 300ms);
  EXPECT_FALSE(limit.probing());
  EXPECT_EQ(limit.limit(), 2u);
  limit.lift(now + 600ms);
  EXPECT_EQ(limit.limit(), 4u);
  // Short answers that follow let it grow on its own.
  SimulatedWorker w{SimulatedWorker::Kind::io, 5ms, 50};
  now += 600ms;
  auto limits = w.run(limit, now, 3s);
  EXPECT_GE(limits.back(), 50u);
}

}  // namespace
}  // namespace corral::balancer
