#include "proxy/dispatch_queue.hpp"

#include <gtest/gtest.h>

namespace corral::proxy {
namespace {

using namespace std::chrono_literals;

config::Config worker_config(unsigned max_in_flight, std::uint64_t max_queue = 100) {
  config::Config c;
  c.workers.emplace();
  c.workers->count = 2;
  c.workers->max_in_flight.adaptive = false;
  c.workers->max_in_flight.fixed = max_in_flight;
  c.limits.max_queue = max_queue;
  return c;
}

struct QueueFixture : ::testing::Test {
  asio::io_context ioc;
  balancer::SlotTable slots{std::vector<unsigned>{1, 1}};

  std::shared_ptr<QueueTicket> ticket() { return std::make_shared<QueueTicket>(ioc); }
};

TEST_F(QueueFixture, StaticUpstreamsHaveNoLimitAndNoQueue) {
  config::Config c;
  DispatchQueue q(c, slots, /*worker_mode=*/false);
  EXPECT_FALSE(q.enabled());
  EXPECT_EQ(slots.limit(0), balancer::SlotTable::no_limit);
}

TEST_F(QueueFixture, AdaptiveByDefaultStartsEachSlotAtTheProbeLimit) {
  config::Config c;
  c.workers.emplace();
  DispatchQueue q(c, slots, true);
  EXPECT_TRUE(q.adaptive());
  EXPECT_EQ(slots.limit(0), 1u);
  EXPECT_EQ(slots.limit(1), 1u);
}

TEST_F(QueueFixture, WaitingRequestsGetFreedSlotsInArrivalOrder) {
  DispatchQueue q(worker_config(1), slots, true);
  ASSERT_TRUE(q.try_start(0));
  ASSERT_TRUE(q.try_start(1));
  auto a = ticket(), b = ticket(), c = ticket();
  EXPECT_EQ(q.enqueue(a, false), DispatchQueue::Entered::waiting);
  EXPECT_EQ(q.enqueue(b, false), DispatchQueue::Entered::waiting);
  EXPECT_EQ(q.enqueue(c, false), DispatchQueue::Entered::waiting);
  EXPECT_EQ(q.length(), 3u);
  EXPECT_FALSE(q.try_start(0));  // others wait: no overtaking
  q.end(1);
  EXPECT_FALSE(q.leave(*a));  // granted
  EXPECT_EQ(a->granted, 1u);
  EXPECT_TRUE(b->waiting);
  q.end(0);
  EXPECT_FALSE(q.leave(*b));
  EXPECT_EQ(b->granted, 0u);
  EXPECT_EQ(q.length(), 1u);
  EXPECT_TRUE(q.leave(*c));  // still waiting: it leaves
  EXPECT_EQ(q.length(), 0u);
  EXPECT_EQ(slots.in_flight(0), 1u);
  EXPECT_EQ(slots.in_flight(1), 1u);
}

TEST_F(QueueFixture, ARetryGoesToTheHead) {
  DispatchQueue q(worker_config(1), slots, true);
  ASSERT_TRUE(q.try_start(0));
  ASSERT_TRUE(q.try_start(1));
  auto waiting = ticket(), retry = ticket();
  q.enqueue(waiting, false);
  q.enqueue(retry, true);
  q.end(0);
  EXPECT_EQ(retry->granted, 0u);
  EXPECT_TRUE(waiting->waiting);
}

TEST_F(QueueFixture, APinnedRequestWaitsForItsOwnSlotWithoutHoldingUpOthers) {
  DispatchQueue q(worker_config(1), slots, true);
  ASSERT_TRUE(q.try_start(0));
  ASSERT_TRUE(q.try_start(1));
  auto pinned = ticket(), other = ticket();
  pinned->only = 1;
  q.enqueue(pinned, false);
  q.enqueue(other, false);
  q.end(0);
  EXPECT_TRUE(pinned->waiting);
  EXPECT_EQ(other->granted, 0u);
  q.end(1);
  EXPECT_EQ(pinned->granted, 1u);
}

TEST_F(QueueFixture, AFailoverPinFollowsItsSlotDown) {
  DispatchQueue q(worker_config(1), slots, true);
  ASSERT_TRUE(q.try_start(0));
  ASSERT_TRUE(q.try_start(1));
  auto pinned = ticket();
  pinned->only = 1;
  pinned->only_while_usable = true;
  q.enqueue(pinned, false);
  slots.set_usable(1, false);
  q.end(0);
  EXPECT_EQ(pinned->granted, 0u);
}

TEST_F(QueueFixture, ARequestGoesBackToTheSlotItFailedOnlyOnceItsWorkerWasReplaced) {
  DispatchQueue q(worker_config(1), slots, true);
  slots.set_usable(1, false);  // one worker only
  auto t = ticket();
  t->failed[0] = {0, slots.downs(0)};
  t->nfailed = 1;
  EXPECT_EQ(q.enqueue(t, true), DispatchQueue::Entered::waiting);
  q.slots_changed();
  EXPECT_TRUE(t->waiting);
  // The master takes the dead worker out and brings the slot's next one up.
  slots.set_usable(0, false);
  slots.set_usable(0, true);
  q.slots_changed();
  EXPECT_EQ(t->granted, 0u);
}

TEST_F(QueueFixture, AFullQueueRefusesAtOnce) {
  DispatchQueue q(worker_config(1, /*max_queue=*/1), slots, true);
  ASSERT_TRUE(q.try_start(0));
  ASSERT_TRUE(q.try_start(1));
  EXPECT_EQ(q.enqueue(ticket(), false), DispatchQueue::Entered::waiting);
  EXPECT_EQ(q.enqueue(ticket(), false), DispatchQueue::Entered::full);
  EXPECT_EQ(q.stats().full, 1u);
}

TEST_F(QueueFixture, WhenEveryWorkerIsDownRequestsWaitForTheFirstBack) {
  DispatchQueue q(worker_config(1), slots, true);
  slots.set_usable(0, false);
  slots.set_usable(1, false);
  auto t = ticket();
  EXPECT_EQ(q.enqueue(t, false), DispatchQueue::Entered::waiting);
  slots.set_usable(1, true);
  q.slots_changed();
  EXPECT_EQ(t->granted, 1u);
}

TEST_F(QueueFixture, AGrantWakesTheWaiterOnItsOwnThread) {
  DispatchQueue q(worker_config(1), slots, true);
  ASSERT_TRUE(q.try_start(0));
  ASSERT_TRUE(q.try_start(1));
  auto t = ticket();
  ASSERT_EQ(q.enqueue(t, false), DispatchQueue::Entered::waiting);
  t->timer.expires_after(10s);
  bool woke = false;
  t->timer.async_wait([&](error_code ec) { woke = ec == asio::error::operation_aborted; });
  std::thread other([&] { q.end(0); });
  other.join();
  ioc.run_for(2s);
  EXPECT_TRUE(woke);
  EXPECT_FALSE(q.leave(*t));
  EXPECT_EQ(t->granted, 0u);
}

}  // namespace
}  // namespace corral::proxy
