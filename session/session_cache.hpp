#pragma once
// One proxy thread's copy of the sessions it loaded, kept coherent with Redis by server-assisted
// client-side caching (the store feeds it the invalidations; see docs/sessions.md). Pure: no
// I/O, the clock is the caller's. Bounded in entries and bytes, least recently used out first.
// A hit allocates nothing.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "session/session_id.hpp"

namespace corral::session {

class SessionCache {
 public:
  using clock = std::chrono::steady_clock;

  struct Entry {
    SessionId id;
    std::string json;          // the session as the app sees it
    clock::time_point renewed;  // when its TTL was last known to be full
    std::uint32_t mark = 0;     // the id's SessionWrites bucket when the copy was read
  };

  // max_entries 0: the cache keeps nothing.
  SessionCache(std::size_t max_entries, std::size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // Whether entries may be stored: invalidations are being received.
  bool enabled() const { return enabled_; }
  // Moves on with every invalidation, flush and own write: a load read before it may hold data
  // an invalidation already dropped, so it is stored only when the epoch is the one it started in.
  std::uint64_t epoch() const { return epoch_; }

  // The entry, made the most recently used; null when absent (or the cache is disabled).
  Entry* find(const SessionId& id);
  // Keeps `json` for `id` when the cache is enabled and `epoch` is still current; whether it did.
  // `mark`: the id's SessionWrites bucket when the copy was read.
  bool store(const SessionId& id, std::string_view json, clock::time_point renewed,
             std::uint64_t epoch, std::uint32_t mark = 0);
  // Drops `id` (an invalidation, or a write of our own) and moves the epoch.
  void erase(const SessionId& id);
  // Drops everything and moves the epoch (a flush, a lost invalidation channel).
  void clear();
  void enable();   // clears, then stores again
  void disable();  // clears, and stores nothing until enabled

  std::size_t size() const { return index_.size(); }
  std::size_t bytes() const { return bytes_; }

  // What an entry counts against max_bytes: its text and the bookkeeping around it.
  static std::size_t cost(std::size_t json_size) { return json_size + overhead; }
  static constexpr std::size_t overhead = 128;

 private:
  struct IdHash {
    std::size_t operator()(const SessionId& id) const noexcept {
      return std::hash<std::string_view>{}(id.view());
    }
  };
  struct IdEq {
    bool operator()(const SessionId& a, const SessionId& b) const noexcept {
      return a.text == b.text;
    }
  };
  using List = std::list<Entry>;

  void drop(List::iterator it);

  std::size_t max_entries_;
  std::size_t max_bytes_;
  bool enabled_ = false;
  std::uint64_t epoch_ = 0;
  std::size_t bytes_ = 0;
  List lru_;  // most recently used first
  std::unordered_map<SessionId, List::iterator, IdHash, IdEq> index_;
};

}  // namespace corral::session
