#pragma once
// Smooth weighted round robin, as nginx's ngx_http_upstream_round_robin.c.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "balancer/balancer.hpp"
#include "balancer/slot.hpp"
#include "balancer/slot_table.hpp"

namespace corral::balancer {

// One thread's current weights for nginx's smooth weighted round robin; shared by the
// algorithms that need a weighted rotation (round robin itself, least-loaded's tie break).
class SmoothWeights {
 public:
  // Sized once here so that pick() never allocates.
  explicit SmoothWeights(const SlotTable& table);

  // Among the slots where `eligible(s)` holds: every one gains its weight, the highest current
  // weight wins (the lowest id on a tie, as nginx's strict '>'), and the winner pays the sum.
  // Over a full cycle each slot is picked in proportion to its weight, interleaved rather than
  // in bursts ({5,1,1} gives a a b a c a a). A slot that is skipped keeps its current weight,
  // as nginx does for a peer that is down.
  template <class Eligible>
  std::optional<SlotId> pick(Eligible&& eligible) {
    std::int64_t total = 0;
    std::optional<SlotId> best;
    for (SlotId s = 0; s < current_.size(); ++s) {
      if (!eligible(s)) continue;
      // The effective weight is the configured one: failures reach a balancer as on_down,
      // not as the per-request feedback nginx uses to lower it.
      const std::int64_t weight = table_.weight(s);
      current_[s] += weight;
      total += weight;
      if (!best || current_[s] > current_[*best]) best = s;
    }
    if (best) current_[*best] -= total;
    return best;
  }

 private:
  const SlotTable& table_;
  // 64 bits: a sum of up to N unsigned weights must not overflow.
  std::vector<std::int64_t> current_;
};

// Smooth weighted round robin over the usable slots a request has not tried yet. The
// rotation state is this instance's own (one per proxy thread), so threads never contend;
// each thread's sequence is the nginx one on its own.
class RoundRobin final : public Balancer {
 public:
  explicit RoundRobin(SlotTable& table);

  std::optional<SlotId> pick(const RequestView& request) override;

 private:
  SmoothWeights weights_;
};

}  // namespace corral::balancer
