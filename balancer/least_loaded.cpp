#include "balancer/least_loaded.hpp"

namespace corral::balancer {

namespace {

// in_flight(a) / weight(a) compared with in_flight(b) / weight(b) without division, as nginx
// does. 64 bits: a 32-bit count times a 32-bit weight cannot overflow.
int compare_load(std::uint32_t in_flight_a, unsigned weight_a, std::uint32_t in_flight_b,
                 unsigned weight_b) {
  const std::uint64_t a = std::uint64_t{in_flight_a} * weight_b;
  const std::uint64_t b = std::uint64_t{in_flight_b} * weight_a;
  return a < b ? -1 : (a > b ? 1 : 0);
}

}  // namespace

LeastLoaded::LeastLoaded(SlotTable& table)
    : Balancer(table), seen_(table.size()), tie_break_(table) {}

std::optional<SlotId> LeastLoaded::pick(const RequestView& request) {
  std::optional<SlotId> best;
  bool many = false;  // another slot ties `best`; cleared when a lower one takes its place
  for (SlotId s = 0; s < seen_.size(); ++s) {
    Seen& seen = seen_[s];
    seen.eligible = table_.available(s) && !is_excluded(request.exclude, s);
    if (!seen.eligible) continue;
    seen.in_flight = table_.in_flight(s);
    if (!best) {
      best = s;
      continue;
    }
    const int order = compare_load(seen.in_flight, table_.weight(s), seen_[*best].in_flight,
                                   table_.weight(*best));
    if (order < 0) {
      best = s;
      many = false;
    } else if (order == 0) {
      many = true;
    }
  }
  if (!best || !many) return best;

  const Seen lowest = seen_[*best];
  const unsigned lowest_weight = table_.weight(*best);
  return tie_break_.pick([&](SlotId s) {
    return seen_[s].eligible &&
           compare_load(seen_[s].in_flight, table_.weight(s), lowest.in_flight, lowest_weight) == 0;
  });
}

}  // namespace corral::balancer
