#pragma once
// The header storage of the data path: Beast's fields over FieldAllocator, blocks in size
// classes kept by each thread and reused, so that parsing, rewriting and answering a request
// cost no malloc once a thread has served a few. The allocator is stateless (what one instance
// allocates another frees on the same thread), so Fields default-constructs as http::fields does.
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

namespace corral::proxy {

// One thread's free blocks, by size class (64, 128, ... 512 bytes); larger blocks: the heap.
class FieldPool {
 public:
  static constexpr std::size_t granule = 64;
  static constexpr std::size_t classes = 8;

  static void* take(std::size_t bytes) {
    const std::size_t c = class_of(bytes);
    if (c >= classes) return ::operator new(bytes);
    Lists& l = local();
    if (Free* f = l.free[c]) {
      l.free[c] = f->next;
      --l.count[c];
      return f;
    }
    return ::operator new((c + 1) * granule);
  }
  static void give_back(void* p, std::size_t bytes) noexcept {
    const std::size_t c = class_of(bytes);
    if (c >= classes) {
      ::operator delete(p);
      return;
    }
    Lists& l = local();
    // After the thread's lists are gone (a static destroyed late), blocks go to the heap.
    if (!l.alive || l.count[c] >= max_free) {
      ::operator delete(p);
      return;
    }
    auto* f = static_cast<Free*>(p);
    f->next = l.free[c];
    l.free[c] = f;
    ++l.count[c];
  }

 private:
  struct Free {
    Free* next;
  };
  struct Lists {
    ~Lists() {
      alive = false;
      for (Free*& head : free) {
        while (head) {
          Free* next = head->next;
          ::operator delete(head);
          head = next;
        }
      }
    }
    std::array<Free*, classes> free{};
    std::array<std::uint32_t, classes> count{};
    bool alive = true;
  };
  static constexpr std::uint32_t max_free = 4096;

  static std::size_t class_of(std::size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / granule; }
  static Lists& local() {
    thread_local Lists lists;
    return lists;
  }
};

template <typename T>
class FieldAllocator {
 public:
  using value_type = T;
  FieldAllocator() noexcept = default;
  template <typename U>
  FieldAllocator(const FieldAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) { return static_cast<T*>(FieldPool::take(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { FieldPool::give_back(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const FieldAllocator<U>&) const noexcept {
    return true;
  }
  template <typename U>
  bool operator!=(const FieldAllocator<U>&) const noexcept {
    return false;
  }
};

using Fields = boost::beast::http::basic_fields<FieldAllocator<char>>;
using RequestHeader = boost::beast::http::request_header<Fields>;
using ResponseHeader = boost::beast::http::response_header<Fields>;

}  // namespace corral::proxy
