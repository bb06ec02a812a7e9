#include "proxy/dispatch.hpp"

namespace corral::proxy {

using boost::beast::http::status;

namespace {

// An answer from corral before or between tries: it leaves the connection in step only when
// the request was read whole, else it says Connection: close.
FailureAnswer refuse(status code, std::string_view message, bool request_read,
                     std::string_view extra_headers = {}) {
  return {true, code, message, !request_read, request_read, extra_headers};
}

}  // namespace

void Dispatch::begin(bool queue, clock::time_point queue_deadline, unsigned retries) {
  queue_ = queue;
  queue_deadline_ = queue_deadline;
  retries_ = retries;
  picks_ = 0;
  attempt_ = 0;
  body_started_ = false;
  held_ = false;
  outcome_ = ExchangeOutcome::ok;
  pick_ = {};
  slot_.reset();
  ntried_ = 0;
  nfailed_ = 0;
  answer_ = {};
}

DispatchStep Dispatch::on_pick(const balancer::Pick& pick, bool request_read) {
  attempt_ = picks_++;
  pick_ = pick;
  slot_ = pick.slot;
  if (pick.outcome == balancer::PickOutcome::unavailable) {
    return answer(refuse(status::service_unavailable,
                         "the worker this session is pinned to is unavailable", request_read));
  }
  if (queue_) return DispatchStep::queue;
  if (!slot_) {
    // None left: none at all on the first try, else the ones tried failed.
    return answer(attempt_ == 0
                      ? refuse(status::service_unavailable, "no upstream available", request_read)
                      : refuse(status::bad_gateway, "upstream failed", request_read));
  }
  return DispatchStep::start;
}

DispatchStep Dispatch::on_wait(QueueWait w, std::optional<balancer::SlotId> granted,
                               bool request_read) {
  switch (w) {
    case QueueWait::granted:
      slot_ = granted;
      return DispatchStep::start;
    case QueueWait::client_gone:
      return answer({false, {}, {}, true, false, {}});
    case QueueWait::full:
      return answer(refuse(status::service_unavailable, "too many requests waiting for a worker",
                           request_read, "Retry-After: 1\r\n"));
    case QueueWait::timeout:
      break;
  }
  return answer(refuse(status::service_unavailable, "no worker free within timeouts.queue",
                       request_read, "Retry-After: 1\r\n"));
}

DispatchStep Dispatch::on_try(ExchangeOutcome outcome) {
  outcome_ = outcome;
  if (outcome == ExchangeOutcome::ok) return DispatchStep::relay;
  // Refused or reset before any effect, with nothing of the body gone: the stage that chose
  // the slot may wait for it once (sticky's hold: the pinned worker may be restarting).
  if (outcome == ExchangeOutcome::retry && !body_started_ && !held_) return DispatchStep::hold;
  return DispatchStep::failed;
}

DispatchStep Dispatch::on_failure(clock::time_point now, std::uint64_t slot_downs,
                                  bool request_read) {
  RetryFacts facts;
  facts.outcome = outcome_;
  facts.body_started = body_started_;
  facts.queue_enabled = queue_;
  facts.before_queue_deadline = now < queue_deadline_;
  facts.failed_slots = nfailed_;
  facts.attempt = attempt_;
  facts.retries = retries_;
  facts.tried = ntried_;
  facts.capacity = capacity;
  switch (retry_step(facts)) {
    case RetryStep::requeue:
      failed_[nfailed_++] = {*slot_, slot_downs};
      return DispatchStep::again;
    case RetryStep::next_upstream:
      tried_[ntried_++] = *slot_;
      return DispatchStep::again;
    case RetryStep::give_up:
      break;
  }
  return answer(failure_answer(outcome_, request_read));
}

}  // namespace corral::proxy
