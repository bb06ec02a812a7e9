#include "balancer/sticky.hpp"

#include <cassert>
#include <utility>

namespace corral::balancer {

Sticky::Sticky(SlotTable& table, std::unique_ptr<Balancer> fallback,
               config::OnUnavailable on_unavailable)
    : Balancer(table), fallback_(std::move(fallback)), on_unavailable_(on_unavailable) {
  assert(fallback_ && &fallback_->table() == &table);
}

Pick Sticky::pick_pinned(const RequestView& request, config::OnUnavailable on_unavailable) {
  const std::optional<SlotId> pin = request.affinity_slot;
  if (!pin) return {fallback_->pick(request), PickOutcome::miss};
  if (can_serve(request, *pin)) return {*pin, PickOutcome::hit};
  // Holding only makes sense for a slot that may become ready again and that this request has
  // not just failed on.
  const bool may_return = *pin < table_.size() && !is_excluded(request.exclude, *pin);
  if (on_unavailable == config::OnUnavailable::strict ||
      (on_unavailable == config::OnUnavailable::hold && may_return))
    return {std::nullopt, PickOutcome::unavailable};
  return {fallback_->pick(request), PickOutcome::rehomed};
}

std::optional<SlotId> Sticky::pick(const RequestView& request) {
  return pick_pinned(request, on_unavailable_).slot;
}

}  // namespace corral::balancer
