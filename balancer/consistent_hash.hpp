#pragma once
// Hash mode: rendezvous hashing of the affinity key onto the slots, with bounded loads.
#include <cstdint>
#include <memory>
#include <optional>

#include "balancer/balancer.hpp"
#include "balancer/slot.hpp"
#include "balancer/slot_table.hpp"

namespace corral::balancer {

// Places each affinity key on the usable slot with the highest weighted rendezvous score
// (highest random weight hashing, Thaler and Ravishankar; the logarithmic weighting of
// Schindelhauer and Schomaker): score(key, s) = weight(s) / -ln(u(key, s)), u uniform in (0, 1).
// Stateless: no ring to rebuild, every thread and every corral replica agrees on the slot of a
// key, and a slot that comes or goes moves only the keys whose top score it holds: no key moves
// between two surviving slots. A scan costs one mix and one log per slot, fine for the few dozen
// slots corral runs.
//
// Bounded loads (Mirrokni, Thorup and Zadimoghaddam, as HAProxy's hash-balance-factor): a slot
// whose in-flight count passes `balance_factor_percent`% of its weighted share of all in-flight
// requests, plus one, is passed over for the next highest score, so one hot key cannot bury a
// slot. The pass-over lasts only while the slot is that loaded, but it does break affinity for
// those requests: apps that keep sessions in process memory should turn it off (0).
//
// Requests without a key go to `fallback`, which must work over the same SlotTable. Events are
// forwarded to the fallback, whose defaults update the shared table (once).
class ConsistentHash final : public Balancer {
 public:
  static constexpr unsigned default_balance_factor_percent = 125;

  ConsistentHash(SlotTable& table, std::unique_ptr<Balancer> fallback,
                 unsigned balance_factor_percent = default_balance_factor_percent);

  std::optional<SlotId> pick(const RequestView& request) override;
  // The key decides (a hit); a key-less request is placed by the fallback (a miss). There is no
  // pinned slot to be unavailable, so `on_unavailable` does not apply.
  Pick pick_pinned(const RequestView& request, config::OnUnavailable on_unavailable) override;

  void on_up(SlotId s) override { fallback_->on_up(s); }
  void on_down(SlotId s) override { fallback_->on_down(s); }
  void on_request_start(SlotId s) override { fallback_->on_request_start(s); }
  void on_request_end(SlotId s) override { fallback_->on_request_end(s); }

  Balancer& fallback() { return *fallback_; }

 private:
  std::unique_ptr<Balancer> fallback_;
  unsigned balance_factor_percent_;
};

// The rendezvous score of slot `s` with weight `weight` for a key whose hash_key() is
// `key_hash`. Higher wins. Exposed for tests and for status pages that explain a placement.
double rendezvous_score(std::uint64_t key_hash, SlotId s, unsigned weight);

}  // namespace corral::balancer
