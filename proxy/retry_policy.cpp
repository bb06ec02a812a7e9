#include "proxy/retry_policy.hpp"

namespace corral::proxy {

RetryStep retry_step(const RetryFacts& f) {
  if (f.outcome != ExchangeOutcome::retry || f.body_started) return RetryStep::give_up;
  if (f.queue_enabled) {
    return f.failed_slots < f.capacity && f.before_queue_deadline ? RetryStep::requeue
                                                                  : RetryStep::give_up;
  }
  return f.attempt < f.retries && f.tried + 1 < f.capacity ? RetryStep::next_upstream
                                                           : RetryStep::give_up;
}

}  // namespace corral::proxy
