#include "balancer/sticky.hpp"

#include <cassert>
#include <utility>

#include "balancer/round_robin.hpp"

namespace corral::balancer {

Sticky::Sticky(SlotTable& table, std::unique_ptr<Balancer> fallback, OnUnavailable on_unavailable)
    : Balancer(table), fallback_(std::move(fallback)), on_unavailable_(on_unavailable) {
  assert(fallback_ && &fallback_->table() == &table);
}

bool Sticky::can_serve(const RequestView& request, SlotId s) const {
  return s < table_.size() && table_.usable(s) && !is_excluded(request.exclude, s);
}

StickyPick Sticky::pick_with_hint(const RequestView& request, std::optional<SlotId> hint) {
  return pick_with_hint(request, hint, on_unavailable_);
}

StickyPick Sticky::pick_with_hint(const RequestView& request, std::optional<SlotId> hint,
                                  OnUnavailable on_unavailable) {
  if (!hint) {
    ++counters_.misses;
    return {fallback_->pick(request), StickyOutcome::miss};
  }
  if (can_serve(request, *hint)) {
    ++counters_.hits;
    return {*hint, StickyOutcome::hit};
  }
  // Holding only makes sense for a slot that may become ready again and that this request has
  // not just failed on.
  const bool may_return = *hint < table_.size() && !is_excluded(request.exclude, *hint);
  if (on_unavailable == OnUnavailable::strict ||
      (on_unavailable == OnUnavailable::hold && may_return)) {
    ++counters_.unavailable;
    return {std::nullopt, StickyOutcome::unavailable};
  }
  ++counters_.rehomed;
  return {fallback_->pick(request), StickyOutcome::rehomed};
}

std::optional<SlotId> Sticky::pick(const RequestView& request) {
  return pick_with_hint(request, request.affinity_slot).slot;
}

}  // namespace corral::balancer
