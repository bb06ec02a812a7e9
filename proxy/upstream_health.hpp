#pragma once
// Passive health of the upstreams, shared by all proxy threads: consecutive connect failures
// eject an upstream for a growing backoff; the prober re-admits it after a successful probe.
#include <atomic>
#include <functional>
#include <chrono>
#include <cstdint>
#include <memory>

#include "balancer/slot_table.hpp"

namespace corral::proxy {

class UpstreamHealth {
 public:
  using clock = std::chrono::steady_clock;

  UpstreamHealth(balancer::SlotTable& slots, std::chrono::milliseconds first_backoff,
                 std::chrono::milliseconds max_backoff);

  // A connect (or pre-response) failure seen by any thread. Returns true when it ejected the slot.
  bool connect_failed(balancer::SlotId s);
  // A request reached the upstream: the failure streak ends.
  void connect_succeeded(balancer::SlotId s) {
    if (slots_[s].failures.load(std::memory_order_relaxed) != 0)
      slots_[s].failures.store(0, std::memory_order_relaxed);
  }

  bool ejected(balancer::SlotId s) const { return slots_[s].ejected.load(std::memory_order_acquire); }
  // True when an ejected slot's backoff has run out and it may be probed.
  bool probe_due(balancer::SlotId s, clock::time_point now) const;
  // Results of a probe (passive re-admission or active health check).
  void probe_succeeded(balancer::SlotId s);
  // Called by probe_succeeded once the slot is usable again (on the thread that re-admits,
  // the proxy's control thread), so that requests waiting for a slot look at once.
  void on_readmitted(std::function<void(balancer::SlotId)> f) { readmitted_ = std::move(f); }
  void probe_failed(balancer::SlotId s);  // ejects if not yet, doubles the backoff otherwise

  std::size_t size() const { return table_.size(); }

 private:
  std::function<void(balancer::SlotId)> readmitted_;
  struct alignas(64) Slot {
    std::atomic<std::uint32_t> failures{0};
    std::atomic<bool> ejected{false};
    std::atomic<std::int64_t> retry_at_ns{0};
    std::atomic<std::int64_t> backoff_ms{0};
  };
  void eject(balancer::SlotId s, clock::time_point now);

  balancer::SlotTable& table_;
  std::unique_ptr<Slot[]> slots_;
  std::chrono::milliseconds first_backoff_;
  std::chrono::milliseconds max_backoff_;
};

}  // namespace corral::proxy
