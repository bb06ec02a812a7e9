#pragma once
// The state of every slot that all proxy threads share: weight, usability, in-flight count and
// in-flight limit. Lock-free: each slot's atomics sit on their own cache line.
#include <atomic>
#include <climits>
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

  static constexpr std::uint32_t no_limit = UINT32_MAX;

  bool usable(SlotId s) const { return slots_[s].usable.load(std::memory_order_relaxed); }
  // Taking a slot out counts one more `downs`: a request that failed on a slot may go back to
  // it once its worker has been taken out (and replaced), never to the same one.
  void set_usable(SlotId s, bool usable) {
    if (slots_[s].usable.exchange(usable, std::memory_order_relaxed) == usable) return;
    if (!usable) slots_[s].downs.fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t downs(SlotId s) const { return slots_[s].downs.load(std::memory_order_relaxed); }

  std::uint32_t in_flight(SlotId s) const { return slots_[s].in_flight.load(std::memory_order_relaxed); }
  void request_started(SlotId s) { slots_[s].in_flight.fetch_add(1, std::memory_order_seq_cst); }
  void request_ended(SlotId s) { slots_[s].in_flight.fetch_sub(1, std::memory_order_seq_cst); }

  // How many requests the slot takes at once (no_limit unless a limit is set).
  std::uint32_t limit(SlotId s) const { return slots_[s].limit.load(std::memory_order_relaxed); }
  void set_limit(SlotId s, std::uint32_t limit) { slots_[s].limit.store(limit, std::memory_order_relaxed); }
  bool has_room(SlotId s) const { return in_flight(s) < limit(s); }
  // Usable and below its limit: what round_robin and least_loaded choose among.
  bool available(SlotId s) const { return usable(s) && has_room(s); }
  // Counts a request started on `s` when it is below its limit; false (nothing counted) when not.
  bool try_start(SlotId s) {
    auto& slot = slots_[s];
    std::uint32_t n = slot.in_flight.load(std::memory_order_relaxed);
    do {
      if (n >= slot.limit.load(std::memory_order_relaxed)) return false;
    } while (!slot.in_flight.compare_exchange_weak(n, n + 1, std::memory_order_seq_cst));
    return true;
  }

  std::size_t usable_count() const;

 private:
  struct alignas(64) Slot {
    unsigned weight = 1;
    std::atomic<bool> usable{true};
    std::atomic<std::uint32_t> in_flight{0};
    std::atomic<std::uint32_t> limit{no_limit};
    std::atomic<std::uint64_t> downs{0};
  };
  std::unique_ptr<Slot[]> slots_;
  std::size_t size_;
};

}  // namespace corral::balancer
