#include "proxy/free_list.hpp"

#include <sys/mman.h>

#include <algorithm>

namespace corral::proxy {

namespace {

constexpr std::size_t page = 4096;
// Small blocks share 64 KiB chunks; a larger one (a relay buffer) is a chunk of its own.
constexpr std::size_t min_chunk = 64 * 1024;
constexpr std::size_t alignment = alignof(std::max_align_t);

std::size_t stride_of(std::size_t size) { return (size + alignment - 1) / alignment * alignment; }

}  // namespace

FreeList::~FreeList() {
  for (char* c : chunks_) ::munmap(c, chunk_bytes_);
}

void FreeList::grow() {
  const std::size_t stride = stride_of(size_);
  if (chunk_bytes_ == 0) chunk_bytes_ = std::max(min_chunk, (stride + page - 1) / page * page);
  void* m = ::mmap(nullptr, chunk_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  char* chunk = static_cast<char*>(m);
  chunks_.insert(std::upper_bound(chunks_.begin(), chunks_.end(), chunk), chunk);
  // Handed out from the chunk's start: its untouched pages cost nothing until used.
  const std::size_t n = chunk_bytes_ / stride;
  for (std::size_t i = n; i > 0; --i) free_.push_back(chunk + (i - 1) * stride);
}

std::size_t FreeList::trim() {
  const bool spare = low_water_ > 0;
  low_water_ = free_.size();
  if (!spare || chunks_.empty()) return 0;
  // How many free blocks each chunk holds; a chunk with all of them free is unmapped.
  const std::size_t per_chunk = chunk_bytes_ / stride_of(size_);
  std::vector<std::size_t> free_in(chunks_.size(), 0);
  auto chunk_of = [&](void* p) {
    auto it = std::upper_bound(chunks_.begin(), chunks_.end(), static_cast<char*>(p));
    return static_cast<std::size_t>(it - chunks_.begin()) - 1;
  };
  for (void* p : free_) ++free_in[chunk_of(p)];
  // One chunk stays mapped, even all free: a thread with light traffic does not map and unmap
  // one for each request.
  std::vector<char> release(chunks_.size(), 0);
  bool keep_one = std::none_of(free_in.begin(), free_in.end(),
                               [&](std::size_t n) { return n < per_chunk; });
  bool any = false;
  for (std::size_t i = 0; i < chunks_.size(); ++i) {
    if (free_in[i] != per_chunk) continue;
    if (keep_one) {
      keep_one = false;
      continue;
    }
    release[i] = 1;
    any = true;
  }
  if (!any) return 0;
  std::erase_if(free_, [&](void* p) { return release[chunk_of(p)] != 0; });
  std::size_t bytes = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < chunks_.size(); ++i) {
    if (release[i]) {
      ::munmap(chunks_[i], chunk_bytes_);
      bytes += chunk_bytes_;
    } else {
      chunks_[kept++] = chunks_[i];
    }
  }
  chunks_.resize(kept);
  if (free_.capacity() > 2 * free_.size() + 64) free_.shrink_to_fit();
  low_water_ = free_.size();
  return bytes;
}

}  // namespace corral::proxy
