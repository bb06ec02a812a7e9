#pragma once
// One request's dispatch as a chain of decisions: from the pick, the wait in the queue and each
// try on an upstream to the next step (start, wait, relay, hold, try again, answer). Pure: no
// I/O and no clock of its own, so the request path's loop is unit-tested apart from the
// sockets; DownstreamSession::handle_request does what each step says.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "balancer/balancer.hpp"
#include "proxy/exchange_outcome.hpp"
#include "proxy/failure_answer.hpp"
#include "proxy/retry_policy.hpp"

namespace corral::proxy {

// What the request path does next.
enum class DispatchStep {
  start,   // the slot has room (or is a static upstream): take it and exchange
  queue,   // worker slots: take room on the slot, else wait in the queue
  relay,   // a response header arrived: relay the response
  hold,    // the try failed before any effect: the stage that chose may wait for its slot
  failed,  // the try failed: on_failure settles it
  again,   // pick again, the failed slot left out
  answer,  // send answer() (when it says so) and end the request
};

// How a wait in the queue ended.
enum class QueueWait { granted, timeout, full, client_gone };

class Dispatch {
 public:
  using clock = std::chrono::steady_clock;
  // How many failed slots or tried upstreams one request remembers.
  static constexpr std::size_t capacity = 8;
  using FailedSlot = std::pair<balancer::SlotId, std::uint64_t>;  // the slot, its downs() then

  // A new request: worker slots (`queue`) retry until `queue_deadline`, static upstreams up to
  // `retries` times.
  void begin(bool queue, clock::time_point queue_deadline, unsigned retries);

  // The slots the next pick leaves out. With worker slots only those whose failing worker is
  // still the one there: `downs(slot)` is the slot's count of worker losses now.
  template <typename Downs>
  std::span<const balancer::SlotId> exclusions(const Downs& downs) {
    if (queue_) {
      ntried_ = 0;
      for (std::size_t i = 0; i < nfailed_; ++i)
        if (downs(failed_[i].first) == failed_[i].second) tried_[ntried_++] = failed_[i].first;
    }
    return {tried_.data(), ntried_};
  }

  // The pick of the stage that chose, or of the balancer: answer (the pin is unavailable, or
  // no static upstream is left), queue (worker slots) or start. `request_read`: the client's
  // request was read whole, so the connection can go on after an answer.
  DispatchStep on_pick(const balancer::Pick& pick, bool request_read);

  // What a request that waits in the queue asks for: only its pinned slot, unless that goes
  // down (the caller knows whether the stage waits for its pin); and the slots that failed it.
  bool pinned() const { return pick_.outcome == balancer::PickOutcome::hit && pick_.slot; }
  std::span<const FailedSlot> failed() const { return {failed_.data(), nfailed_}; }

  // The wait in the queue ended, with `granted` when it was: start, or answer.
  DispatchStep on_wait(QueueWait w, std::optional<balancer::SlotId> granted, bool request_read);

  // The try on slot() ended: relay, hold (the caller asks the stage that chose; held() when it
  // waited; a stage that does not wait leaves it failed), or failed.
  DispatchStep on_try(ExchangeOutcome outcome);
  void held() { held_ = true; }

  // The failed try, settled: again (the slot left out, as a failure with `slot_downs`, the
  // slot's count of worker losses now), or answer. `now`: against the queue's deadline.
  DispatchStep on_failure(clock::time_point now, std::uint64_t slot_downs, bool request_read);

  // The slot of this try, the pick as it chose it, and the try as the stage that chose sees it
  // (the slot the queue granted, with the pick's outcome).
  std::optional<balancer::SlotId> slot() const { return slot_; }
  const balancer::Pick& pick() const { return pick_; }
  balancer::Pick tried() const { return {slot_, pick_.outcome}; }
  clock::time_point queue_deadline() const { return queue_deadline_; }
  // The number of this try (0 for the first).
  unsigned attempt() const { return attempt_; }
  // Some of the client's body was read and sent, so the request can no longer be replayed.
  bool& body_started() { return body_started_; }
  // Valid after `answer`.
  const FailureAnswer& answer() const { return answer_; }

 private:
  DispatchStep answer(FailureAnswer a) {
    answer_ = a;
    return DispatchStep::answer;
  }

  bool queue_ = false;
  clock::time_point queue_deadline_{};
  unsigned retries_ = 0;
  unsigned picks_ = 0;
  unsigned attempt_ = 0;
  bool body_started_ = false;
  bool held_ = false;
  ExchangeOutcome outcome_ = ExchangeOutcome::ok;
  balancer::Pick pick_;
  std::optional<balancer::SlotId> slot_;
  std::array<balancer::SlotId, capacity> tried_{};
  std::size_t ntried_ = 0;
  std::array<FailedSlot, capacity> failed_{};
  std::size_t nfailed_ = 0;
  FailureAnswer answer_;
};

}  // namespace corral::proxy
