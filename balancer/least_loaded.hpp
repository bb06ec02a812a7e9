#pragma once
// Fewest in-flight requests relative to weight, as nginx's least_conn module.
#include <cstdint>
#include <optional>
#include <vector>

#include "balancer/balancer.hpp"
#include "balancer/round_robin.hpp"
#include "balancer/slot.hpp"
#include "balancer/slot_table.hpp"

namespace corral::balancer {

// Picks the usable, untried slot with the lowest in_flight / weight, where in_flight is the
// count all proxy threads share through the SlotTable. Slots tied on that ratio take turns by
// smooth weighted round robin, so an idle pool is spread like round robin rather than piled on
// the lowest id.
//
// Full scan rather than power of two choices: N is small (a few dozen slots at most), so a scan
// is a few dozen relaxed loads, cheaper than anything that would need a sampled pair to be worth
// it. The scan finds the true minimum where two random choices only avoid the worst, it needs no
// random source (which would have to be injected), and it gives exact, testable sequences. The
// herd effect that two choices guard against comes from stale load figures; here the counters
// are live and a pick is counted as soon as the request starts.
class LeastLoaded final : public Balancer {
 public:
  explicit LeastLoaded(SlotTable& table);

  std::optional<SlotId> pick(const RequestView& request) override;

 private:
  // What the first pass saw of one slot. Other threads move in_flight while we pick; the tie
  // break must judge the same figures the first pass did, or it could find no slot tied.
  struct Seen {
    bool eligible = false;
    std::uint32_t in_flight = 0;
  };

  std::vector<Seen> seen_;  // sized once in the constructor: pick() never allocates
  SmoothWeights tie_break_;
};

}  // namespace corral::balancer
