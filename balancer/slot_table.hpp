#pragma once
// The state of every slot that all proxy threads share: weight, usability and in-flight count.
// Lock-free: each field is an atomic on its own cache line, so threads do not contend.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "balancer/slot.hpp"

namespace corral::balancer {

class SlotTable {
 public:
  explicit SlotTable(const std::vector<unsigned>& weights);

  std::size_t size() const { return size_; }
  unsigned weight(SlotId s) const { return slots_[s].weight; }

  bool usable(SlotId s) const { return slots_[s].usable.load(std::memory_order_relaxed); }
  void set_usable(SlotId s, bool usable) { slots_[s].usable.store(usable, std::memory_order_relaxed); }

  std::uint32_t in_flight(SlotId s) const { return slots_[s].in_flight.load(std::memory_order_relaxed); }
  void request_started(SlotId s) { slots_[s].in_flight.fetch_add(1, std::memory_order_relaxed); }
  void request_ended(SlotId s) { slots_[s].in_flight.fetch_sub(1, std::memory_order_relaxed); }

  std::size_t usable_count() const;

 private:
  struct alignas(64) Slot {
    unsigned weight = 1;
    std::atomic<bool> usable{true};
    std::atomic<std::uint32_t> in_flight{0};
  };
  std::unique_ptr<Slot[]> slots_;
  std::size_t size_;
};

}  // namespace corral::balancer
