#pragma once
// Memory blocks of one size kept by one proxy thread for reuse, and an allocator over them, so
// that what a connection takes for a busy period (its DownstreamSession, with
// std::allocate_shared; its read block; a body relay buffer) or while it idles (the connection
// itself, its pending read) costs no malloc in the steady state.
//
// The blocks are carved from chunks mapped for the list alone, never from the heap: the blocks
// that a burst of busy connections took and gave back leave no holes between the heap's
// long-lived objects, and a trim unmaps the chunks whose blocks are all free, so the memory of
// the burst goes back to the system whole.
#include <cstddef>
#include <new>
#include <vector>

namespace corral::proxy {

class FreeList {
 public:
  // `size`: the blocks' size, or 0 for the first size asked for.
  explicit FreeList(std::size_t size = 0) : size_(size) {}
  FreeList(const FreeList&) = delete;
  FreeList& operator=(const FreeList&) = delete;
  ~FreeList();  // unmaps every chunk: no block may be in use any more

  // A block of the list's size (which must be known).
  void* take() { return take(size_); }
  void give_back(void* p) noexcept { give_back(p, size_); }
  // The first size asked for is the list's, unless it was given; other sizes go to the heap.
  void* take(std::size_t size) {
    if (size_ == 0) size_ = size;
    if (size != size_) return ::operator new(size);
    if (free_.empty()) grow();
    void* p = free_.back();
    free_.pop_back();
    if (free_.size() < low_water_) low_water_ = free_.size();
    return p;
  }
  void give_back(void* p, std::size_t size) noexcept {
    if (size != size_) {
      ::operator delete(p);
      return;
    }
    free_.push_back(p);  // grows with the busiest moment: trim() shrinks it
  }
  std::size_t kept() const { return free_.size(); }
  std::size_t block_size() const { return size_; }
  // Mapped bytes, in use or free.
  std::size_t mapped() const { return chunks_.size() * chunk_bytes_; }
  // When some blocks were free the whole time since the last trim (none took them all: the
  // busiest moment is past), unmaps the chunks whose blocks are all free; returns the bytes.
  std::size_t trim();

 private:
  // Maps a chunk and puts its blocks in free_.
  void grow();

  std::size_t size_;
  std::size_t chunk_bytes_ = 0;  // set by the first grow()
  std::vector<void*> free_;
  std::vector<char*> chunks_;  // in address order
  std::size_t low_water_ = 0;  // the fewest blocks free since the last trim
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
