#pragma once
// The sessions written through any proxy thread of this process, as counters in buckets by id.
// A thread's cached copy of a session is good only while its bucket has not moved since the copy
// was read. Redis tells the other threads of a write as well (client-side caching), but its
// message may come after the writer's answer has reached the client and the client's next
// request another thread; the writer moves the counter before its answer is sent.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "session/session_id.hpp"

namespace corral::session {

class SessionWrites {
 public:
  // The id's bucket now: what a copy read from here on is checked against.
  std::uint32_t mark(const SessionId& id) const {
    return bucket(id).load(std::memory_order_acquire);
  }
  // A write of `id` is done (or under way): every copy read before it is stale.
  void written(const SessionId& id) { bucket(id).fetch_add(1, std::memory_order_acq_rel); }

 private:
  static constexpr std::size_t buckets = 4096;
  std::atomic<std::uint32_t>& bucket(const SessionId& id) const {
    return counters_[std::hash<std::string_view>{}(id.view()) % buckets];
  }
  mutable std::array<std::atomic<std::uint32_t>, buckets> counters_{};
};

}  // namespace corral::session
