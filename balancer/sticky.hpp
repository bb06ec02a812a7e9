#pragma once
// Sticky balancing: a request that names its pinned slot goes there while that slot can serve.
#include <memory>
#include <optional>

#include "balancer/balancer.hpp"
#include "balancer/slot.hpp"
#include "balancer/slot_table.hpp"
#include "config/config.hpp"

namespace corral::balancer {

// A Balancer decorator for learn and insert modes: honours the request's pin
// (`RequestView::affinity_slot`: the slot its session is pinned to, from the affinity table or
// the signed cookie) when that slot is in range, usable and not already tried for this
// request; otherwise applies config::OnUnavailable, and places pin-less requests with
// `fallback` (round robin or least loaded over the same table). One instance per proxy thread,
// like every Balancer. Events go to the fallback, whose defaults update the shared table (once).
//
// Under `hold`, a slot that can never come back (out of range after a reload) or that this
// request already tried (it failed just now, though the table still calls it usable) fails over
// at once: waiting for it would not end. Under `strict` those answer `unavailable` too, so a
// pinned session never lands elsewhere silently.
class Sticky final : public Balancer {
 public:
  Sticky(SlotTable& table, std::unique_ptr<Balancer> fallback,
         config::OnUnavailable on_unavailable = config::OnUnavailable::failover);

  // The slot for `request`, its pin honoured when that slot can serve; `unavailable` (no slot)
  // under hold or strict when it cannot. Never allocates.
  Pick pick_pinned(const RequestView& request, config::OnUnavailable on_unavailable) override;

  // pick_pinned(request, the policy given at construction).slot, for code that only picks.
  std::optional<SlotId> pick(const RequestView& request) override;

  void on_up(SlotId s) override { fallback_->on_up(s); }
  void on_down(SlotId s) override { fallback_->on_down(s); }
  void on_request_start(SlotId s) override { fallback_->on_request_start(s); }
  void on_request_end(SlotId s) override { fallback_->on_request_end(s); }

  config::OnUnavailable on_unavailable() const { return on_unavailable_; }
  Balancer& fallback() { return *fallback_; }

 private:
  std::unique_ptr<Balancer> fallback_;
  config::OnUnavailable on_unavailable_;
};

}  // namespace corral::balancer
