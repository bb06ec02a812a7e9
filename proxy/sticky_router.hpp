#pragma once
// The sticky-session decisions of one proxy thread, per request: which slot a request's session
// is pinned to, and what a response teaches (learn mode) or must carry (insert mode).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "balancer/balancer.hpp"
#include "config/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/header_fields.hpp"
#include "proxy/counter.hpp"
#include "session/affinity_cookie.hpp"
#include "session/affinity_store.hpp"
#include "session/affinity_table.hpp"

namespace corral::proxy {

// What the router counted on this thread; the admin listener sums the threads.
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

// What the router knows of one request: its session key and pin. Kept by the request (its
// session), not the router: a thread carries many requests at once, each between begin() and
// on_response() across awaits (the queue, the exchange).
struct StickyRequest {
  std::string_view key;
  std::optional<balancer::SlotId> pin;
  std::uint64_t fingerprint = 0;  // of key, with a store
  bool store_asked = false;
  long long cookie_expiry = 0;  // insert: the valid cookie's expiry, 0 when none
  long long now_unix = 0;
};

// Per request: begin() reads the session key and its pin, pick() asks the thread's balancer,
// on_response() learns or forgets (learn mode) or issues corral's cookie (insert mode).
// Stickiness is decided for every request, so one keep-alive connection can carry several
// users. Nothing here allocates on the common path; the views it keeps point into the request
// header, which outlives the request's exchange.
//
// Learn mode reads the AffinityTable that all threads share (and, with sticky.store: redis, the
// thread's AffinityStore behind it); insert mode signs with a per-thread AffinityCookie; hash
// mode only hands the key to the ConsistentHash balancer.
class StickyRouter {
 public:
  // `table` is the proxy's affinity table (learn mode), `store` this thread's Redis store of
  // pins (learn mode with store: redis, else null), `balancer` the thread's own (a Sticky in
  // learn and insert modes, a ConsistentHash in hash mode). Throws std::invalid_argument when
  // insert mode has no usable key (config::validate reports that first).
  StickyRouter(const config::Sticky& config, session::AffinityTable* table,
               session::AffinityStore* store, balancer::Balancer& balancer,
               std::size_t max_header_bytes);

  // Reads the request's key and pin; in insert mode removes corral_affinity from the Cookie
  // header(s), so the app never sees it. Once per request, after rewrite_request.
  void begin(StickyRequest& r, RequestHeader& request, std::string_view client_ip);

  // With a store: whether to ask it before pick(), because the table has no pin for the
  // request's key or one that cannot serve. At most once per request.
  bool store_lookup_due(const StickyRequest& r, const balancer::RequestView& view) const;
  // Asks the store; a pin it has replaces the table's, and is cached in the table. A store that
  // does not answer leaves the pin as it was.
  awaitable<void> lookup_store(StickyRequest& r);

  // The slot for one try: fills the view's key and pin and asks the balancer. Counts the
  // outcome; `unavailable` (hold or strict) leaves the choice to the caller.
  balancer::Pick pick(const StickyRequest& r, balancer::RequestView& view);
  // After a hold: the pinned slot if it can serve now, else placed anew.
  balancer::Pick pick_after_hold(const StickyRequest& r, balancer::RequestView& view);
  // Whether the request's pinned slot could serve it now (for a hold's wait).
  bool pin_can_serve(const StickyRequest& r, const balancer::RequestView& view) const;

  // After the response header from `slot` arrived (before it is forwarded).
  void on_response(StickyRequest& r, ResponseHeader& response, balancer::SlotId slot,
                   balancer::PickOutcome outcome, bool secure);

  // A hold takes a place in this thread's bounded queue; false when it is full.
  bool try_hold();
  void end_hold(bool served);

  config::OnUnavailable on_unavailable() const { return config_.on_unavailable; }
  std::chrono::milliseconds hold_timeout() const { return config_.hold_timeout; }
  const StickyRouterCounters& counters() const { return counters_; }

  // At most this many requests of one thread wait for their slot at once; later ones fail over.
  static constexpr std::size_t max_held = 1024;

 private:
  std::string_view hash_key(const RequestHeader& request,
                            std::string_view client_ip) const;
  void strip_affinity_cookie(RequestHeader& request);
  void learn_from(const StickyRequest& r, const ResponseHeader& response,
                  balancer::SlotId slot, balancer::PickOutcome outcome);

  const config::Sticky& config_;
  session::AffinityTable* table_;
  session::AffinityStore* store_;
  balancer::Balancer& balancer_;
  std::optional<session::AffinityCookie> cookie_;
  std::vector<char> strip_buffer_;
  StickyRouterCounters counters_;
  std::size_t held_ = 0;

};

}  // namespace corral::proxy
