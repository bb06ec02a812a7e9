#pragma once
// Learn mode's memory: which slot each session (a cookie value) is pinned to.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "balancer/slot.hpp"

namespace corral::session {

using balancer::SlotId;

struct AffinityTableOptions {
  std::size_t max_entries = 1'000'000;     // LRU eviction beyond this
  std::chrono::seconds idle_ttl{30 * 60};  // an entry unused this long is gone; 0: never
  std::size_t shards = 16;  // rounded down to a power of two, and to at most max_entries
};

// Totals since construction, summed over the shards.
struct AffinityCounters {
  std::uint64_t hits = 0;       // lookup found a live entry
  std::uint64_t misses = 0;     // lookup found none (expired ones included)
  std::uint64_t learned = 0;    // learn stored a new entry or moved one to another slot
  std::uint64_t expired = 0;    // entries dropped for idleness
  std::uint64_t evicted = 0;    // entries dropped to stay within max_entries
  std::uint64_t forgotten = 0;  // entries dropped by forget (the app deleted its cookie)
};

// The learned affinities: session key -> (slot, last used), bounded, with idle expiry, shared by
// all proxy threads. A response's Set-Cookie teaches it; a request's cookie looks it up.
//
// Only a 64-bit fingerprint of each key (hash_key, XXH64) is kept, never the cookie value: 24
// bytes an entry plus the index, whatever the key's length, and a memory dump or a snapshot
// holds no session id. Two live sessions share a fingerprint with probability n^2 / 2^65 (about
// 3e-8 at a million entries); if they did, one of them would follow the other's slot, which is
// what a re-home does anyway. A lookup of a key never learned never writes: a client inventing
// cookie values cannot grow the table.
//
// Sharded by the fingerprint's top bits; each shard has its own mutex, LRU list and
// open-addressing index, so threads meet only when they touch the same shard, for a few dozen
// nanoseconds. A per-thread table would not do: a session's next request may arrive on another
// connection, served by another thread. Each shard holds max_entries / shards entries at most,
// so LRU eviction is per shard and may begin a little before the table as a whole is full.
//
// Time is injected (`now`, steady clock), kept in whole seconds: expiry is exact to a second.
class AffinityTable {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  explicit AffinityTable(const AffinityTableOptions& options = {});
  ~AffinityTable();
  AffinityTable(const AffinityTable&) = delete;
  AffinityTable& operator=(const AffinityTable&) = delete;

  // The slot `key` is pinned to, refreshing its last use; nothing when unknown or expired (an
  // expired entry is dropped here).
  std::optional<SlotId> lookup(std::string_view key, TimePoint now);

  // Pins `key` to `slot` as of `now`, replacing an earlier pin. Makes room by dropping expired
  // entries first, then the least recently used one.
  void learn(std::string_view key, SlotId slot, TimePoint now);

  // Drops `key` (the app deleted its cookie). True when it was there.
  bool forget(std::string_view key);

  // Drops every entry idle for idle_ttl or more; for a periodic timer, so that expired entries
  // do not wait for a lookup or for LRU pressure. Returns how many were dropped.
  std::size_t sweep(TimePoint now);

  std::size_t size() const;
  AffinityCounters counters() const;
  // Heap bytes the table holds (entries and index capacity, shards); for the memory figure.
  std::size_t memory_bytes() const;
  std::size_t max_entries() const { return max_entries_; }
  std::size_t shard_count() const { return shard_count_; }

  // Live sessions per slot, for the skew metric and `corral status`; pins to slots at or past
  // `slot_count` are not counted.
  std::vector<std::size_t> sessions_per_slot(std::size_t slot_count, TimePoint now) const;

  // The live entries as a compact byte string (16 bytes an entry plus a 16-byte header), to
  // hand the table to the next proxy generation. Ages are relative to `now`, so the reader's
  // clock need not share an origin with ours.
  std::string snapshot(TimePoint now) const;
  // Adds the entries of a snapshot, each aged as it was when taken; entries idle past idle_ttl
  // are skipped, and when both have a key the more recently used pin wins. The least recently
  // used go first if the table overflows. False, with the table unchanged, when `bytes` is not a
  // snapshot of this format.
  bool restore(std::string_view bytes, TimePoint now);

  // The fingerprint a key is stored under.
  static std::uint64_t fingerprint(std::string_view key);

 private:
  struct Shard;
  Shard& shard_for(std::uint64_t fp) const;

  std::size_t max_entries_;
  std::uint32_t idle_ttl_s_;  // 0: no expiry
  std::size_t shard_count_;
  unsigned shard_bits_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace corral::session
