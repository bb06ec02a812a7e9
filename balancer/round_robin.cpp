#include "balancer/round_robin.hpp"

namespace corral::balancer {

SmoothWeights::SmoothWeights(const SlotTable& table) : table_(table), current_(table.size(), 0) {}

RoundRobin::RoundRobin(SlotTable& table) : Balancer(table), weights_(table) {}

std::optional<SlotId> RoundRobin::pick(const RequestView& request) {
  return weights_.pick(
      [&](SlotId s) { return table_.available(s) && !is_excluded(request.exclude, s); });
}

}  // namespace corral::balancer
