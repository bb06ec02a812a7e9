#include "proxy/upstream_health.hpp"

#include <algorithm>

namespace corral::proxy {

namespace {
std::int64_t ns_of(UpstreamHealth::clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

UpstreamHealth::UpstreamHealth(balancer::SlotTable& slots, std::chrono::milliseconds first_backoff,
                               std::chrono::milliseconds max_backoff)
    : table_(slots),
      slots_(std::make_unique<Slot[]>(slots.size())),
      first_backoff_(first_backoff),
      max_backoff_(max_backoff) {}

bool UpstreamHealth::connect_failed(balancer::SlotId s) {
  slots_[s].failures.fetch_add(1, std::memory_order_relaxed);
  // A refused or timed-out connect on this machine's network is not a fluke: eject at once,
  // and let the prober bring it back, so that no further request pays for the failure.
  bool expected = false;
  if (!slots_[s].ejected.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return false;
  eject(s, clock::now());
  return true;
}

bool UpstreamHealth::probe_due(balancer::SlotId s, clock::time_point now) const {
  return ejected(s) && slots_[s].retry_at_ns.load(std::memory_order_relaxed) <= ns_of(now);
}

void UpstreamHealth::probe_succeeded(balancer::SlotId s) {
  slots_[s].failures.store(0, std::memory_order_relaxed);
  slots_[s].backoff_ms.store(0, std::memory_order_relaxed);
  slots_[s].ejected.store(false, std::memory_order_release);
  table_.set_usable(s, true);
  if (readmitted_) readmitted_(s);
}

void UpstreamHealth::probe_failed(balancer::SlotId s) {
  bool expected = false;
  if (slots_[s].ejected.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
    eject(s, clock::now());
    return;
  }
  auto next = std::min<std::int64_t>(slots_[s].backoff_ms.load(std::memory_order_relaxed) * 2,
                                     max_backoff_.count());
  next = std::max<std::int64_t>(next, first_backoff_.count());
  slots_[s].backoff_ms.store(next, std::memory_order_relaxed);
  slots_[s].retry_at_ns.store(ns_of(clock::now() + std::chrono::milliseconds(next)),
                              std::memory_order_relaxed);
}

void UpstreamHealth::eject(balancer::SlotId s, clock::time_point now) {
  slots_[s].backoff_ms.store(first_backoff_.count(), std::memory_order_relaxed);
  slots_[s].retry_at_ns.store(ns_of(now + first_backoff_), std::memory_order_relaxed);
  table_.set_usable(s, false);
}

}  // namespace corral::proxy
