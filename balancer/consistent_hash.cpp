#include "balancer/consistent_hash.hpp"

#include <cassert>
#include <cmath>
#include <utility>

#include "balancer/key_hash.hpp"
#include "balancer/round_robin.hpp"

namespace corral::balancer {

double rendezvous_score(std::uint64_t key_hash, SlotId s, unsigned weight) {
  // The slot is mixed on its own first, so the per-slot figures of one key are independent
  // rather than neighbours in one mixing sequence.
  const std::uint64_t h = mix64(key_hash ^ mix64(std::uint64_t{s} + 0x9E3779B97F4A7C15ULL));
  // u in (0, 1), never 0 nor 1: the top 53 bits, centred in their interval.
  const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
  return static_cast<double>(weight) / -std::log(u);
}

ConsistentHash::ConsistentHash(SlotTable& table, std::unique_ptr<Balancer> fallback,
                               unsigned balance_factor_percent)
    : Balancer(table),
      fallback_(std::move(fallback)),
      balance_factor_percent_(balance_factor_percent) {
  assert(fallback_ && &fallback_->table() == &table);
}

Pick ConsistentHash::pick_pinned(const RequestView& request, config::OnUnavailable) {
  return {pick(request), request.affinity_key.empty() ? PickOutcome::miss : PickOutcome::hit};
}

std::optional<SlotId> ConsistentHash::pick(const RequestView& request) {
  if (request.affinity_key.empty()) return fallback_->pick(request);

  // The load bound looks at every usable slot, tried ones included: they still carry requests.
  std::uint64_t total_in_flight = 0;
  std::uint64_t total_weight = 0;
  if (balance_factor_percent_ != 0) {
    for (SlotId s = 0; s < table_.size(); ++s) {
      if (!table_.usable(s)) continue;
      total_in_flight += table_.in_flight(s);
      total_weight += table_.weight(s);
    }
  }

  // `s` is passed over when in_flight(s) > factor * total * weight(s) / total_weight + 1: more
  // than `factor` times its weighted share of the load, plus one request of slack so that an
  // idle pool does not scatter a key's first concurrent requests. Cross-multiplied in 128 bits,
  // so no weight or count can overflow it. The bounds sum to more than the total, so some
  // usable slot always has room.
  using wide = unsigned __int128;
  const wide share_budget = wide{balance_factor_percent_} * total_in_flight;
  auto has_room = [&](SlotId s) {
    if (balance_factor_percent_ == 0) return true;
    return wide{table_.in_flight(s)} * total_weight * 100 <=
           share_budget * table_.weight(s) + wide{total_weight} * 100;
  };

  const std::uint64_t key_hash = hash_key(request.affinity_key);
  std::optional<SlotId> best;      // highest score among the slots with room
  std::optional<SlotId> best_any;  // highest score of all: when none has room (all tried)
  double best_score = -1, best_any_score = -1;
  for (SlotId s = 0; s < table_.size(); ++s) {
    if (!table_.usable(s) || is_excluded(request.exclude, s)) continue;
    const double score = rendezvous_score(key_hash, s, table_.weight(s));
    if (score > best_any_score) {
      best_any = s;
      best_any_score = score;
    }
    if (score > best_score && has_room(s)) {
      best = s;
      best_score = score;
    }
  }
  return best ? best : best_any;
}

}  // namespace corral::balancer
