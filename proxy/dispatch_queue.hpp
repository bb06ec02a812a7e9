#pragma once
// The proxy's request queue in front of the worker slots (cluster mode): each slot takes at most
// its in-flight limit (adaptive by default) and the requests beyond it wait here, shared by every
// proxy thread, in arrival order; a slot that frees goes to the first waiting request it can serve.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "balancer/balancer.hpp"
#include "balancer/gradient_limit.hpp"
#include "config/config.hpp"
#include "proxy/asio.hpp"

namespace corral::proxy {

// One request waiting for a slot, shared by its session and the queue. The queue grants it a
// slot under its lock and wakes it by cancelling its timer on the session's own thread.
struct QueueTicket {
  explicit QueueTicket(asio::io_context& ioc) : timer(ioc) {}

  asio::steady_timer timer;
  std::optional<balancer::SlotId> only;  // a pinned request waits for its own slot...
  bool only_while_usable = false;        // ...unless that slot goes down (it fails over then)
  // Slots this request failed on, with the slot's SlotTable::downs() then: it goes back to such a
  // slot only after the worker that failed it was taken out.
  std::array<std::pair<balancer::SlotId, std::uint64_t>, 8> failed{};
  std::size_t nfailed = 0;
  // Set under the queue's lock.
  std::optional<balancer::SlotId> granted;
  bool waiting = false;
};

// Counters of the queue, all threads together.
struct QueueStats {
  std::uint64_t queued = 0;     // requests that waited (or tried to)
  std::uint64_t timeouts = 0;   // left after timeouts.queue
  std::uint64_t full = 0;       // refused at once: limits.max_queue waiting already
  std::uint64_t abandoned = 0;  // their client went away while they waited
  std::uint64_t wait_ns = 0;    // time spent waiting, all requests together
};

class DispatchQueue {
 public:
  using clock = std::chrono::steady_clock;

  // `worker_mode`: the slots are workers corral started (limits and a queue).
  DispatchQueue(const config::Config& cfg, balancer::SlotTable& slots, bool worker_mode);

  // Worker slots have limits and a queue; static upstreams have neither (no limit, as before).
  bool enabled() const { return enabled_; }
  bool adaptive() const { return adaptive_; }

  // The fast path: nobody waits and `slot` is below its limit: the request is counted on it.
  bool try_start(balancer::SlotId slot);
  // Counted on `slot` whatever its limit (static upstreams).
  void start(balancer::SlotId slot) { slots_.request_started(slot); }

  enum class Entered { granted, waiting, full };
  // Puts `t` in line (at the head for a request that already waited and lost its worker) and
  // grants at once what can be granted: `granted` when `t` got a slot already; `full` when
  // limits.max_queue requests wait already (nothing queued).
  Entered enqueue(const std::shared_ptr<QueueTicket>& t, bool front);
  // Takes `t` out of line (timed out, client gone). False when it was granted a slot meanwhile:
  // the caller then holds that slot and must use it or end() it.
  bool leave(QueueTicket& t);
  // Whether `t` may go to `slot` now (not a slot it failed on with the same worker).
  bool may_use(const QueueTicket& t, balancer::SlotId slot) const;

  // A request on `slot` is over (answered, failed or abandoned): its place goes to the next.
  void end(balancer::SlotId slot);
  // The worker on `slot` answered with a header `rtt` after the request was dispatched at
  // `dispatched`: feeds the slot's adaptive limit.
  void on_response(balancer::SlotId slot, clock::time_point dispatched, clock::duration rtt);
  // Slots came up, went down or moved: waiting requests that can go now are granted.
  void slots_changed();
  // Every few milliseconds (the control thread): lifts the adaptive limit of a slot that is full
  // while requests wait and has answered nothing for its GradientLimit::stall_after() (long
  // polls hold it), then grants what can go (a safety net for any missed wake-up too).
  void tick();
  // A new worker took `slot`: its adaptive limit measures it afresh.
  void worker_replaced(balancer::SlotId slot);

  std::size_t length() const { return length_.load(std::memory_order_relaxed); }
  QueueStats stats() const;
  void count_timeout() { timeouts_.fetch_add(1, std::memory_order_relaxed); }
  void count_abandoned() { abandoned_.fetch_add(1, std::memory_order_relaxed); }
  void count_wait(clock::duration d) {
    wait_ns_.fetch_add(static_cast<std::uint64_t>(d.count()), std::memory_order_relaxed);
  }

 private:
  void grant_waiting();  // under lock_
  void grant(QueueTicket& t, balancer::SlotId slot, const std::shared_ptr<QueueTicket>& keep);
  std::optional<balancer::SlotId> pick_for(const QueueTicket& t);

  balancer::SlotTable& slots_;
  const bool enabled_;
  const bool adaptive_;
  const std::size_t max_queue_;
  mutable std::mutex lock_;
  std::deque<std::shared_ptr<QueueTicket>> waiting_;
  std::atomic<std::size_t> length_{0};
  // Picks a slot for waiting requests that are not pinned, under lock_ (balancers are not
  // thread-safe; each proxy thread has its own for the fast path).
  std::unique_ptr<balancer::Balancer> balancer_;
  std::mutex limits_lock_;
  std::vector<balancer::GradientLimit> limits_;  // adaptive only; under limits_lock_
  std::vector<clock::time_point> last_answer_;   // by slot; under limits_lock_
  std::uint64_t random_state_;                   // under limits_lock_
  std::atomic<std::uint64_t> queued_{0}, timeouts_{0}, full_{0}, abandoned_{0}, wait_ns_{0};
};

}  // namespace corral::proxy
