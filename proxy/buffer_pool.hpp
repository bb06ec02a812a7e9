#pragma once
// Body relay buffers of one proxy thread, lent to a request while its body moves and returned
// after, so that idle connections hold none and the steady state allocates nothing.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace corral::proxy {

class BufferPool {
 public:
  static constexpr std::size_t buffer_size = 64 * 1024;

  char* take() {
    if (free_.empty()) return new char[buffer_size];
    char* b = free_.back().release();
    free_.pop_back();
    low_water_ = std::min(low_water_, free_.size());
    return b;
  }
  void give_back(char* b) {
    if (free_.size() < max_free_) free_.emplace_back(b);
    else delete[] b;
  }
  // Gives the buffers that no request took since the last trim back to the heap; returns how
  // many.
  std::size_t trim() {
    const std::size_t n = std::min(low_water_, free_.size());
    free_.resize(free_.size() - n);
    low_water_ = free_.size();
    return n;
  }

 private:
  static constexpr std::size_t max_free_ = 1024;
  std::vector<std::unique_ptr<char[]>> free_;
  std::size_t low_water_ = 0;  // the fewest buffers kept since the last trim
};

// A buffer borrowed from a BufferPool for as long as this object lives.
class BorrowedBuffer {
 public:
  explicit BorrowedBuffer(BufferPool& pool) : pool_(pool) {}
  ~BorrowedBuffer() { release(); }
  BorrowedBuffer(const BorrowedBuffer&) = delete;
  BorrowedBuffer& operator=(const BorrowedBuffer&) = delete;

  char* get() {
    if (!data_) data_ = pool_.take();
    return data_;
  }
  void release() {
    if (data_) pool_.give_back(data_);
    data_ = nullptr;
  }
  static constexpr std::size_t size() { return BufferPool::buffer_size; }

 private:
  BufferPool& pool_;
  char* data_ = nullptr;
};

}  // namespace corral::proxy
