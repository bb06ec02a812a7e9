#include "proxy/sticky_router.hpp"

#include <algorithm>

namespace corral::proxy {

namespace {

using Clock = std::chrono::steady_clock;
using balancer::Pick;
using balancer::PickOutcome;

}  // namespace

StickyRouter::StickyRouter(const config::Sticky& config, session::AffinityTable* table,
                           session::AffinityStore* store, balancer::Balancer& balancer)
    : config_(config), table_(table), store_(store), balancer_(balancer) {}

Pick StickyRouter::pick(const StickyRequest& r, balancer::RequestView& view) {
  view.affinity_key = r.key;
  view.affinity_slot = r.pin;
  const Pick p = balancer_.pick_pinned(view, config_.on_unavailable);
  switch (p.outcome) {
    case PickOutcome::hit:
      counters_.hits.add();
      break;
    case PickOutcome::miss:
      counters_.misses.add();
      break;
    case PickOutcome::rehomed:
      counters_.rehomed.add();
      break;
    case PickOutcome::unavailable:
      if (config_.on_unavailable == config::OnUnavailable::strict)
        counters_.strict_rejections.add();
      break;
  }
  return p;
}

Pick StickyRouter::pick_after_hold(const StickyRequest& r, balancer::RequestView& view) {
  view.affinity_slot = r.pin;
  const Pick p = balancer_.pick_pinned(view, config::OnUnavailable::failover);
  if (p.outcome == PickOutcome::hit) counters_.hits.add();
  if (p.outcome == PickOutcome::rehomed) counters_.rehomed.add();
  return p;
}

bool StickyRouter::pin_can_serve(const StickyRequest& r, const balancer::RequestView& view) const {
  return r.pin && balancer_.can_serve(view, *r.pin);
}

awaitable<Pick> StickyRouter::hold_for_pin(const StickyRequest& r, balancer::RequestView& view,
                                           UpstreamWait& wait) {
  // The pinned slot is down, draining or restarting: the supervisor is bringing it back, so
  // wait for it (bounded by hold_timeout, and by a per-thread queue), then fail over.
  if (!try_hold()) co_return pick_after_hold(r, view);
  auto until = Clock::now() + hold_timeout();
  bool ready = false;
  while (!ready && Clock::now() < until && !wait.connection_draining()) {
    co_await wait.wait_for_change(until);
    ready = pin_can_serve(r, view);
  }
  auto p = pick_after_hold(r, view);
  end_hold(p.outcome == PickOutcome::hit);
  co_return p;
}

awaitable<bool> StickyRouter::wait_for_restart(balancer::SlotId slot, UpstreamWait& wait) {
  if (!try_hold()) co_return false;
  // Back means usable again after it was seen unusable (ejected, or the master's word), or
  // usable at a new address (this thread already has the next worker's endpoint).
  const tcp::endpoint refused = wait.slot_endpoint(slot);
  bool seen_down = false;
  bool back = false;
  const auto start = Clock::now();
  const auto until = start + hold_timeout();
  // A worker that died is out of selection within milliseconds (the master's membership, or the
  // ejection after a refused connect); one that is still up after this is alive.
  const auto grace =
      start + std::min<Clock::duration>(hold_timeout(), std::chrono::milliseconds(500));
  while (!back && Clock::now() < until && !wait.connection_draining()) {
    co_await wait.wait_for_change(seen_down ? until : std::min(until, grace));
    const bool usable = balancer_.table().usable(slot);
    const bool moved = wait.slot_endpoint(slot) != refused;
    seen_down = seen_down || !usable;
    back = usable && (seen_down || moved);
    if (!seen_down && !moved && Clock::now() >= grace) break;
  }
  end_hold(back);
  co_return back;
}

bool StickyRouter::try_hold() {
  if (held_ >= max_held) return false;
  ++held_;
  counters_.held.add();
  return true;
}

void StickyRouter::end_hold(bool served) {
  --held_;
  if (served) counters_.hold_served.add();
}

}  // namespace corral::proxy
