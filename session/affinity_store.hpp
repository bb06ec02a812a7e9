#pragma once
// Learn mode's pins in Redis (sticky.store: redis), so that every corral instance using the same
// server and prefix, and the next start of this one, routes a session to the same slot. The
// proxy's AffinityTable stays in front of it as a cache: Redis is asked only when the table has
// no pin for a request's key, or has one that cannot serve (another instance may have re-homed
// the session meanwhile). Writes are not awaited: a learned pin is in the table at once and in
// Redis one round trip later.
//
// Keys are `prefix` + the 16 hex digits of the session key's fingerprint (AffinityTable's), so
// Redis holds no session id either; values are the slot number. Each key expires after
// sticky.idle_ttl unused: a lookup renews it, and so does a request served from the table, at
// most once every quarter of idle_ttl for a key.
#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "balancer/slot.hpp"
#include "config/config.hpp"
#include "session/redis_client.hpp"

namespace corral::session {

// What one thread's store did, read by the admin listener.
struct AffinityStoreCounters {
  std::atomic<std::uint64_t> found{0};     // a lookup found a pin
  std::atomic<std::uint64_t> absent{0};    // a lookup found none
  std::atomic<std::uint64_t> failed{0};    // a lookup or a write the store did not answer
  std::atomic<std::uint64_t> written{0};   // pins saved
  std::atomic<std::uint64_t> erased{0};    // pins deleted (the app deleted its cookie)
  std::atomic<std::uint64_t> renewed{0};   // expiries pushed back for pins used from the table
};

// Longest sticky.prefix (config::validate checks it).
constexpr std::size_t max_affinity_prefix = 64;

// The Redis key of a fingerprint: `prefix` + 16 lowercase hex digits, written into `out`
// (at least prefix.size() + 16 bytes); returns the written part.
std::string_view affinity_store_key(std::string_view prefix, std::uint64_t fingerprint,
                                    char* out);
// A stored value back to a slot: a decimal number below `slot_limit`; nothing otherwise.
std::optional<balancer::SlotId> parse_affinity_slot(std::string_view text,
                                                    std::size_t slot_limit);

class AffinityStore {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `connect_host`: the Redis host already resolved (see RedisClient::Options); `slot_limit`:
  // stored slots at or past it are ignored (another instance with more slots wrote them).
  AffinityStore(asio::io_context& ioc, const config::Sticky& cfg, std::string connect_host,
                std::size_t slot_limit);

  void start() { client_.start(); }  // on the io_context's thread
  bool up() const { return client_.ready(); }
  const RedisStats& stats() const { return client_.stats(); }
  const AffinityStoreCounters& counters() const { return *counters_; }

  struct Lookup {
    error_code ec;  // the store did not answer in time, or failed
    std::optional<balancer::SlotId> slot;
  };
  // The pin of `fingerprint`, its expiry renewed; one round trip.
  asio::awaitable<Lookup> lookup(std::uint64_t fingerprint);
  // Pins `fingerprint` to `slot`, replacing an earlier pin.
  void save(std::uint64_t fingerprint, balancer::SlotId slot);
  // Drops the pin.
  void erase(std::uint64_t fingerprint);
  // The pin was used from the table at `now`: pushes its expiry back unless that was done for
  // this key within the last quarter of idle_ttl.
  void renew(std::uint64_t fingerprint, TimePoint now);

 private:
  // Sends a command whose answer only counts.
  void send(std::span<const std::string_view> args, std::atomic<std::uint64_t> AffinityStoreCounters::*done);

  const config::Sticky& cfg_;
  std::size_t slot_limit_;
  std::string ttl_ms_;  // empty: pins never expire (idle_ttl: 0)
  std::chrono::steady_clock::duration renew_every_;
  RedisClient client_;
  // Shared with the answers of unawaited commands, which may run after the store is gone.
  std::shared_ptr<AffinityStoreCounters> counters_;
  // Which keys were renewed when: direct-mapped by fingerprint, a collision only costs a renewal.
  struct Renewed {
    std::uint64_t fingerprint = 0;
    TimePoint at{};
  };
  std::array<Renewed, 1024> renewed_{};
};

}  // namespace corral::session
