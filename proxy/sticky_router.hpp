#pragma once
// What the sticky stages of one proxy thread share (balance: sticky), whatever the mode: the
// config, the thread's balancer and its pick for a request's pin, the hold (on_unavailable:
// hold) with its bounded queue, and the one set of counters /metrics reports. How a request's
// key and pin are read, and what a response teaches or must carry, is each mode's stage
// (sticky_learn_stage, sticky_insert_stage, sticky_hash_stage).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "balancer/balancer.hpp"
#include "config/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/counter.hpp"
#include "proxy/upstream_wait.hpp"
#include "session/affinity_store.hpp"
#include "session/affinity_table.hpp"

namespace corral::proxy {

// What the sticky stages counted on this thread; the admin listener sums the threads.
struct StickyRouterCounters {
  Counter hits;         // the pin was honoured
  Counter misses;       // no pin (new session, unknown or invalid key): the fallback placed it
  Counter rehomed;      // the pinned slot could not serve: placed anew (and re-learned)
  Counter held;         // requests that waited for their pinned slot (on_unavailable: hold)
  Counter hold_served;  // ... and were then served by it
  Counter strict_rejections;  // answered 503 (on_unavailable: strict)
  Counter cookies_issued;     // insert mode: Set-Cookie corral_affinity sent
  Counter cookies_rejected;   // insert mode: a corral_affinity that was forged or malformed
};

// What the sticky stage knows of one request: its session key and pin. Kept by the request (its
// session), not the stage: a thread carries many requests at once, each between its request
// header and its response header across awaits (the queue, the exchange).
struct StickyRequest {
  std::string_view key;
  std::optional<balancer::SlotId> pin;
  std::uint64_t fingerprint = 0;  // of key, with a store
  bool store_asked = false;
  long long cookie_expiry = 0;  // insert: the valid cookie's expiry, 0 when none
  long long now_unix = 0;
};

// Per thread. Stickiness is decided for every request, so one keep-alive connection can carry
// several users. Nothing here allocates on the common path.
class StickyRouter {
 public:
  // `table` is the proxy's affinity table (learn mode), `store` this thread's Redis store of
  // pins (learn mode with store: redis, else null), `balancer` the thread's own (a Sticky in
  // learn and insert modes, a ConsistentHash in hash mode).
  StickyRouter(const config::Sticky& config, session::AffinityTable* table,
               session::AffinityStore* store, balancer::Balancer& balancer);

  // The slot for one try: fills the view's key and pin and asks the balancer. Counts the
  // outcome; `unavailable` (hold or strict) leaves the choice to the caller.
  balancer::Pick pick(const StickyRequest& r, balancer::RequestView& view);
  // After a hold: the pinned slot if it can serve now, else placed anew.
  balancer::Pick pick_after_hold(const StickyRequest& r, balancer::RequestView& view);
  // Whether the request's pinned slot could serve it now (for a hold's wait).
  bool pin_can_serve(const StickyRequest& r, const balancer::RequestView& view) const;

  // on_unavailable: hold, after a pick found the pinned slot unavailable: waits (bounded by
  // hold_timeout and the thread's hold queue) for it, then picks again, failing over.
  awaitable<balancer::Pick> hold_for_pin(const StickyRequest& r, balancer::RequestView& view,
                                         UpstreamWait& wait);
  // Whether a try on a pinned slot that failed (refused or reset) waits for the slot's restart.
  bool waits_for_restart(balancer::PickOutcome outcome) const {
    return outcome == balancer::PickOutcome::hit && holds();
  }
  // on_unavailable: hold, after the pinned slot failed a try (refused or reset: its worker may
  // just have died, before the proxy knows): true once the slot is back (a new worker, or
  // re-admitted); false at once when the slot is not taken down within a short grace (the
  // worker is alive: the failure was the connection's, not the worker's).
  awaitable<bool> wait_for_restart(balancer::SlotId slot, UpstreamWait& wait);

  // A hold takes a place in this thread's bounded queue; false when it is full.
  bool try_hold();
  void end_hold(bool served);

  const config::Sticky& config() const { return config_; }
  session::AffinityTable* table() const { return table_; }
  session::AffinityStore* store() const { return store_; }
  balancer::Balancer& balancer() const { return balancer_; }
  config::OnUnavailable on_unavailable() const { return config_.on_unavailable; }
  bool holds() const { return config_.on_unavailable == config::OnUnavailable::hold; }
  std::chrono::milliseconds hold_timeout() const { return config_.hold_timeout; }
  const StickyRouterCounters& counters() const { return counters_; }
  StickyRouterCounters& counters() { return counters_; }

  // At most this many requests of one thread wait for their slot at once; later ones fail over.
  static constexpr std::size_t max_held = 1024;

 private:
  const config::Sticky& config_;
  session::AffinityTable* table_;
  session::AffinityStore* store_;
  balancer::Balancer& balancer_;
  StickyRouterCounters counters_;
  std::size_t held_ = 0;
};

}  // namespace corral::proxy
