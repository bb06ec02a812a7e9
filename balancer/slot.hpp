#pragma once
// Slot ids and the view of a request a balancer may look at.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace corral::balancer {

// A stable upstream position 0..N-1 (a static upstream or a worker slot).
using SlotId = std::uint32_t;

// What a balancer may know about a request. Cheap to build: views into the parsed header.
struct RequestView {
  std::string_view method;
  std::string_view target;
  std::string_view affinity_key;       // empty when the request carries none
  std::span<const SlotId> exclude;     // slots already tried for this request
  std::optional<SlotId> affinity_slot;  // the slot the request's session is pinned to (sticky)
};

// True when `s` was already tried for this request. The list is a handful of slots at most
// (one per retry), so a linear scan beats any set.
inline bool is_excluded(std::span<const SlotId> exclude, SlotId s) {
  for (SlotId e : exclude) {
    if (e == s) return true;
  }
  return false;
}

}  // namespace corral::balancer
