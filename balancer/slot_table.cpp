#include "balancer/slot_table.hpp"

namespace corral::balancer {

SlotTable::SlotTable(const std::vector<unsigned>& weights)
    : slots_(std::make_unique<Slot[]>(weights.size())), size_(weights.size()) {
  for (std::size_t i = 0; i < size_; ++i) slots_[i].weight = weights[i] == 0 ? 1 : weights[i];
}

std::size_t SlotTable::usable_count() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < size_; ++i) n += usable(static_cast<SlotId>(i));
  return n;
}

}  // namespace corral::balancer
