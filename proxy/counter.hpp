#pragma once
// A counter written by one thread and read by any: a relaxed load+store, no locked instruction.
#include <atomic>
#include <cstdint>

namespace corral::proxy {

class Counter {
 public:
  void add(std::uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

}  // namespace corral::proxy
