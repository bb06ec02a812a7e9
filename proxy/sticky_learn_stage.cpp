#include "proxy/sticky_learn_stage.hpp"

#include "session/cookie.hpp"

namespace corral::proxy {

namespace {
using Clock = std::chrono::steady_clock;
using balancer::Pick;
using balancer::PickOutcome;
}  // namespace

StageVerdict StickyLearnStage::on_request_header(RequestContext& r) {
  StickyRequest& s = r.sticky;
  reset(s);
  if (auto v = request_cookie(*r.header, router_.config().cookie); v && !v->empty()) {
    s.key = *v;
    const auto now = Clock::now();
    if (auto* table = router_.table()) s.pin = table->lookup(s.key, now);
    if (auto* store = router_.store()) {
      s.fingerprint = session::AffinityTable::fingerprint(s.key);
      if (s.pin) store->renew(s.fingerprint, now);
    }
  }
  return StageVerdict::proceed;
}

bool StickyLearnStage::store_lookup_due(const StickyRequest& s,
                                        const balancer::RequestView& request) const {
  return router_.store() && !s.store_asked && !s.key.empty() &&
         (!s.pin || !router_.balancer().can_serve(request, *s.pin));
}

ChoiceVerdict StickyLearnStage::choose_upstream(RequestContext& r,
                                                balancer::RequestView& request, Pick& pick) {
  if (store_lookup_due(r.sticky, request)) {
    r.wait_for_pin = router_.holds();
    return ChoiceVerdict::suspend;
  }
  return pick_or_hold(r, request, pick);
}

awaitable<Pick> StickyLearnStage::resume_choose_upstream(RequestContext& r,
                                                         balancer::RequestView& request) {
  // Not a coroutine itself: the hold's wait is the router's, with no frame of this one's.
  if (store_lookup_due(r.sticky, request)) return pick_after_store(r, request);
  return router_.hold_for_pin(r.sticky, request, *r.wait);
}

awaitable<Pick> StickyLearnStage::pick_after_store(RequestContext& r,
                                                   balancer::RequestView& request) {
  StickyRequest& s = r.sticky;
  s.store_asked = true;
  auto found = co_await router_.store()->lookup(s.fingerprint);
  if (found.slot && found.slot != s.pin) {
    // Learned by another instance (or by this one before a restart), or re-homed by one since.
    s.pin = found.slot;
    if (auto* table = router_.table()) table->learn(s.key, *s.pin, Clock::now());
  }
  auto p = router_.pick(s, request);
  if (p.outcome != PickOutcome::unavailable || !router_.holds()) co_return p;
  co_return co_await router_.hold_for_pin(s, request, *r.wait);
}

StageVerdict StickyLearnStage::on_response_header(RequestContext& r, ResponseHeader& response) {
  if (r.slot) learn_from(r.sticky, response, *r.slot, r.pick_outcome);
  return StageVerdict::proceed;
}

void StickyLearnStage::learn_from(const StickyRequest& s, const ResponseHeader& response,
                                  balancer::SlotId slot, PickOutcome outcome) {
  auto* table = router_.table();
  auto* store = router_.store();
  if (!table) return;
  bool named = false;
  long long now_unix = 0;
  for (auto [it, end] = response.equal_range(http::field::set_cookie); it != end; ++it) {
    if (now_unix == 0) now_unix = unix_now();
    auto c = session::parse_set_cookie(it->value(), now_unix);
    if (!c || c->name != router_.config().cookie) continue;
    named = true;
    if (c->deletes) {
      // Logout or expiry: the session the request named is over.
      if (!s.key.empty()) {
        table->forget(s.key);
        if (store) store->erase(s.fingerprint);
      }
    } else if (!c->value.empty()) {
      table->learn(c->value, slot, Clock::now());
      if (store) store->save(session::AffinityTable::fingerprint(c->value), slot);
    }
  }
  // A session placed anew keeps its cookie: pin it where it landed. Only keys that were in the
  // table (or the store) are re-learned, so clients cannot grow it with invented values.
  if (!named && outcome == PickOutcome::rehomed && !s.key.empty()) {
    table->learn(s.key, slot, Clock::now());
    if (store) store->save(s.fingerprint, slot);
  }
}

}  // namespace corral::proxy
