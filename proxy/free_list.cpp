#include "proxy/free_list.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace corral::proxy {

namespace {

constexpr std::size_t page = 4096;
// Small blocks share 64 KiB chunks; a larger one (a relay buffer) is a chunk of its own.
constexpr std::size_t min_chunk = 64 * 1024;
constexpr std::size_t alignment = alignof(std::max_align_t);

std::size_t stride_of(std::size_t size) { return (size + alignment - 1) / alignment * alignment; }

#if defined(__SANITIZE_ADDRESS__)
#define CORRAL_CHUNKS_FROM_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORRAL_CHUNKS_FROM_HEAP 1
#endif
#endif

// A sanitizer build takes its chunks from the heap: the leak checker looks for pointers in the
// heap, not in private mappings, and would call what the blocks point to leaked.
char* map_chunk(std::size_t bytes) {
#ifdef CORRAL_CHUNKS_FROM_HEAP
  return static_cast<char*>(::operator new(bytes));
#else
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(m);
#endif
}

void unmap_chunk(char* chunk, std::size_t bytes) {
#ifdef CORRAL_CHUNKS_FROM_HEAP
  ::operator delete(chunk, bytes);
#else
  ::munmap(chunk, bytes);
#endif
}

}  // namespace

FreeList::~FreeList() {
  for (char* c : chunks_) unmap_chunk(c, chunk_bytes_);
}

void FreeList::grow() {
  const std::size_t stride = stride_of(size_);
  if (chunk_bytes_ == 0) chunk_bytes_ = std::max(min_chunk, (stride + page - 1) / page * page);
  char* chunk = map_chunk(chunk_bytes_);
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
      unmap_chunk(chunks_[i], chunk_bytes_);
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
