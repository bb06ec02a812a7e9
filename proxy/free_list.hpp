#pragma once
// Memory blocks of one size kept by one proxy thread for reuse, and an allocator over them, so
// that what a connection takes for a busy period (its DownstreamSession, with
// std::allocate_shared; its read block; a body relay buffer) costs no malloc in the steady state
// and is given back while the connection idles.
#include <algorithm>
#include <cstddef>
#include <new>
#include <vector>

namespace corral::proxy {

class FreeList {
 public:
  // `size`: the blocks' size, or 0 for the first size asked for; at most `max_free` are kept.
  explicit FreeList(std::size_t size = 0, std::size_t max_free = 1024)
      : size_(size), max_free_(max_free) {}
  FreeList(const FreeList&) = delete;
  FreeList& operator=(const FreeList&) = delete;
  ~FreeList() {
    for (void* p : free_) ::operator delete(p);
  }

  // A block of the list's size (which must be known).
  void* take() { return take(size_); }
  void give_back(void* p) noexcept { give_back(p, size_); }
  // The first size asked for is the list's, unless it was given; other sizes go to the heap.
  void* take(std::size_t size) {
    if (size_ == 0) size_ = size;
    if (size == size_ && !free_.empty()) {
      void* p = free_.back();
      free_.pop_back();
      low_water_ = std::min(low_water_, free_.size());
      return p;
    }
    return ::operator new(size);
  }
  void give_back(void* p, std::size_t size) noexcept {
    if (size == size_ && free_.size() < max_free_) {
      free_.push_back(p);  // grows with the busiest moment, then never again
      return;
    }
    ::operator delete(p);
  }
  std::size_t kept() const { return free_.size(); }
  std::size_t block_size() const { return size_; }
  // Gives the blocks that none took since the last trim back to the heap; returns how many.
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
  std::size_t size_;
  std::size_t max_free_;
  std::vector<void*> free_;
  std::size_t low_water_ = 0;  // the fewest blocks kept since the last trim
};

template <typename T>
class FreeListAllocator {
 public:
  using value_type = T;
  explicit FreeListAllocator(FreeList& list) noexcept : list_(&list) {}
  template <typename U>
  FreeListAllocator(const FreeListAllocator<U>& o) noexcept : list_(o.list_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(list_->take(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { list_->give_back(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const FreeListAllocator<U>& o) const noexcept {
    return list_ == o.list_;
  }

 private:
  template <typename U>
  friend class FreeListAllocator;
  FreeList* list_;
};

}  // namespace corral::proxy
