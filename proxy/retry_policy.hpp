#pragma once
// Whether a request whose try on an upstream failed gets another try, and where: pure, so the
// rules are unit-tested apart from the I/O.
#include <cstddef>

#include "proxy/exchange_outcome.hpp"

namespace corral::proxy {

// What the request path knows after a failed try.
struct RetryFacts {
  ExchangeOutcome outcome = ExchangeOutcome::retry;
  bool body_started = false;  // some of the client's body was read (and may be gone upstream)
  // Worker slots: requests wait in the proxy's queue for a slot.
  bool queue_enabled = false;
  bool before_queue_deadline = false;  // timeouts.queue is not up yet
  std::size_t failed_slots = 0;        // slots that failed this request so far (queue)
  unsigned attempt = 0;                // tries so far, less one (static upstreams)
  unsigned retries = 0;                // the config's `retries`
  std::size_t tried = 0;               // upstreams excluded so far (static upstreams)
  std::size_t capacity = 8;            // how many failed slots or tried upstreams are kept
};

enum class RetryStep {
  requeue,        // worker slots: back to the head of the queue, the failed slot excluded
  next_upstream,  // static upstreams: another one, the failed one excluded
  give_up,        // answer the failure
};

// Only a failure before any effect (ExchangeOutcome::retry) with none of the body read is
// retried; worker slots until timeouts.queue, static upstreams up to `retries` times.
RetryStep retry_step(const RetryFacts& f);

}  // namespace corral::proxy
