#include "proxy/retry_policy.hpp"

#include <gtest/gtest.h>

namespace corral::proxy {
namespace {

RetryFacts static_upstreams(unsigned attempt, unsigned retries) {
  RetryFacts f;
  f.attempt = attempt;
  f.retries = retries;
  f.tried = attempt;
  return f;
}

RetryFacts worker_slots(std::size_t failed, bool before_deadline) {
  RetryFacts f;
  f.queue_enabled = true;
  f.failed_slots = failed;
  f.before_queue_deadline = before_deadline;
  return f;
}

TEST(RetryPolicy, StaticUpstreamsRetryUpToRetries) {
  EXPECT_EQ(retry_step(static_upstreams(0, 2)), RetryStep::next_upstream);
  EXPECT_EQ(retry_step(static_upstreams(1, 2)), RetryStep::next_upstream);
  EXPECT_EQ(retry_step(static_upstreams(2, 2)), RetryStep::give_up);
  EXPECT_EQ(retry_step(static_upstreams(0, 0)), RetryStep::give_up);
}

TEST(RetryPolicy, StaticUpstreamsStopWhenTheTriedListIsFull) {
  RetryFacts f = static_upstreams(6, 100);
  f.tried = 7;
  EXPECT_EQ(retry_step(f), RetryStep::give_up);
  f.tried = 6;
  EXPECT_EQ(retry_step(f), RetryStep::next_upstream);
}

TEST(RetryPolicy, WorkerSlotsRequeueUntilTheQueueDeadline) {
  EXPECT_EQ(retry_step(worker_slots(0, true)), RetryStep::requeue);
  EXPECT_EQ(retry_step(worker_slots(7, true)), RetryStep::requeue);
  EXPECT_EQ(retry_step(worker_slots(8, true)), RetryStep::give_up);
  EXPECT_EQ(retry_step(worker_slots(0, false)), RetryStep::give_up);
}

TEST(RetryPolicy, OnlyAFailureBeforeAnyEffectWithNoBodyReadIsRetried) {
  for (auto o : {ExchangeOutcome::bad_gateway, ExchangeOutcome::gateway_timeout,
                 ExchangeOutcome::client_error, ExchangeOutcome::abort, ExchangeOutcome::ok}) {
    RetryFacts f = static_upstreams(0, 3);
    f.outcome = o;
    EXPECT_EQ(retry_step(f), RetryStep::give_up) << static_cast<int>(o);
    RetryFacts q = worker_slots(0, true);
    q.outcome = o;
    EXPECT_EQ(retry_step(q), RetryStep::give_up) << static_cast<int>(o);
  }
  RetryFacts f = static_upstreams(0, 3);
  f.body_started = true;
  EXPECT_EQ(retry_step(f), RetryStep::give_up);
  RetryFacts q = worker_slots(0, true);
  q.body_started = true;
  EXPECT_EQ(retry_step(q), RetryStep::give_up);
}

}  // namespace
}  // namespace corral::proxy
