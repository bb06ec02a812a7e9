#pragma once
// Sticky balancing: a request that names its pinned slot goes there while that slot can serve.
#include <cstdint>
#include <memory>
#include <optional>

#include "balancer/balancer.hpp"
#include "balancer/slot.hpp"
#include "balancer/slot_table.hpp"

namespace corral::balancer {

// What to do when the pinned slot cannot serve (down, draining, gone, or already tried).
enum class OnUnavailable {
  failover,  // place the session anew with the fallback (counted as re-homed)
  hold,      // report `unavailable`: the proxy waits for the slot, then asks again with failover
  strict,    // report `unavailable`: the proxy answers 503
};

// How a sticky pick went; the proxy counts these and re-learns affinity on `rehomed`.
enum class StickyOutcome {
  hit,          // the hint named a slot that can serve; it was taken
  miss,         // no hint: the fallback placed a new session
  rehomed,      // the hint's slot cannot serve: the fallback placed the session anew
  unavailable,  // the hint's slot cannot serve and the policy is hold or strict: no slot
};

struct StickyPick {
  std::optional<SlotId> slot;  // nothing on `unavailable`, or when the fallback found none
  StickyOutcome outcome = StickyOutcome::miss;
};

// Per-instance (so per-thread) counts of outcomes; the proxy sums them over its threads.
struct StickyCounters {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t rehomed = 0;
  std::uint64_t unavailable = 0;
};

// A Balancer decorator for learn and insert modes: honours an affinity hint (the slot a
// session is pinned to, from the affinity table or the signed cookie) when that slot is in
// range, usable and not already tried for this request; otherwise applies OnUnavailable, and
// places hint-less requests with `fallback` (round robin or least loaded over the same table).
// One instance per proxy thread, like every Balancer. Events go to the fallback, whose defaults
// update the shared table (once).
//
// Under `hold`, a slot that can never come back (out of range after a reload) or that this
// request already tried (it failed just now, though the table still calls it usable) fails over
// at once: waiting for it would not end. Under `strict` those answer `unavailable` too, so a
// pinned session never lands elsewhere silently.
class Sticky final : public Balancer {
 public:
  Sticky(SlotTable& table, std::unique_ptr<Balancer> fallback,
         OnUnavailable on_unavailable = OnUnavailable::failover);

  // The slot for `request`, pinned to `hint` when that slot can serve. Never allocates.
  StickyPick pick_with_hint(const RequestView& request, std::optional<SlotId> hint);
  // The same with an explicit policy, e.g. failover once a hold has timed out.
  StickyPick pick_with_hint(const RequestView& request, std::optional<SlotId> hint,
                            OnUnavailable on_unavailable);

  // pick_with_hint(request, request.affinity_slot), for code that only has a Balancer&.
  std::optional<SlotId> pick(const RequestView& request) override;

  // True when `s` is in range, usable and not in `request.exclude`.
  bool can_serve(const RequestView& request, SlotId s) const;

  void on_up(SlotId s) override { fallback_->on_up(s); }
  void on_down(SlotId s) override { fallback_->on_down(s); }
  void on_request_start(SlotId s) override { fallback_->on_request_start(s); }
  void on_request_end(SlotId s) override { fallback_->on_request_end(s); }

  const StickyCounters& counters() const { return counters_; }
  OnUnavailable on_unavailable() const { return on_unavailable_; }
  Balancer& fallback() { return *fallback_; }

 private:
  std::unique_ptr<Balancer> fallback_;
  OnUnavailable on_unavailable_;
  StickyCounters counters_;
};

}  // namespace corral::balancer
