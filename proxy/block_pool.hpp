#pragma once
// Fixed-size read blocks of one proxy thread and an allocator over them, so a client connection
// gives its read buffer back while idle and takes one again without calling malloc.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace corral::proxy {

class BlockPool {
 public:
  static constexpr std::size_t block_size = 4096;

  void* take() {
    if (free_.empty()) return ::operator new(block_size);
    void* b = free_.back();
    free_.pop_back();
    low_water_ = std::min(low_water_, free_.size());
    return b;
  }
  void give_back(void* b) {
    if (free_.size() < max_free_) free_.push_back(b);
    else ::operator delete(b);
  }
  ~BlockPool() {
    for (void* b : free_) ::operator delete(b);
  }
  // Gives the blocks that no request took since the last trim back to the heap (what a burst
  // of connections left behind); returns how many.
  std::size_t trim() {
    const std::size_t n = std::min(low_water_, free_.size());
    for (std::size_t i = 0; i < n; ++i) {
      ::operator delete(free_.back());
      free_.pop_back();
    }
    low_water_ = free_.size();
    return n;
  }

 private:
  static constexpr std::size_t max_free_ = 4096;
  std::vector<void*> free_;
  std::size_t low_water_ = 0;  // the fewest blocks kept since the last trim
};

// An allocator that serves block_size requests from a BlockPool and others from the heap.
template <typename T>
class BlockAllocator {
 public:
  using value_type = T;
  explicit BlockAllocator(BlockPool& pool) noexcept : pool_(&pool) {}
  template <typename U>
  BlockAllocator(const BlockAllocator<U>& o) noexcept : pool_(o.pool_) {}

  T* allocate(std::size_t n) {
    if (n * sizeof(T) == BlockPool::block_size) return static_cast<T*>(pool_->take());
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) == BlockPool::block_size) pool_->give_back(p);
    else ::operator delete(p);
  }
  template <typename U>
  bool operator==(const BlockAllocator<U>& o) const noexcept { return pool_ == o.pool_; }

 private:
  template <typename U>
  friend class BlockAllocator;
  BlockPool* pool_;
};

}  // namespace corral::proxy
