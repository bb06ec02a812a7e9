#pragma once
// The shared session store: sessions as Redis hashes, one field per top-level JSON field. A
// load is HGETALL and PTTL in one round trip (the TTL renewed by a PEXPIRE only when it has run
// down by an eighth); a change is one atomic Lua script. Loaded sessions are kept in the
// thread's SessionCache while Redis tracks them for this connection (CLIENT TRACKING, RESP2:
// the invalidations come on a second connection subscribed to __redis__:invalidate), so a
// session in use costs no round trip until it changes.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "config/config.hpp"
#include "session/redis_client.hpp"
#include "session/session_cache.hpp"
#include "session/session_writes.hpp"
#include "session/session_id.hpp"
#include "session/session_update.hpp"

namespace corral::session {

// What the store did for the request path, written by one thread and read by the admin listener.
struct SessionCounters {
  std::atomic<std::uint64_t> loaded{0};   // a request's cookie named a live session
  std::atomic<std::uint64_t> unknown{0};  // it named none (expired, cleared, never was)
  std::atomic<std::uint64_t> created{0};
  std::atomic<std::uint64_t> updated{0};
  std::atomic<std::uint64_t> cleared{0};
  std::atomic<std::uint64_t> gone{0};  // an update to a session cleared or expired meanwhile
  std::atomic<std::uint64_t> store_failures{0};  // a request met a store that did not answer
  std::atomic<std::uint64_t> cache_hits{0};    // loads answered by the thread's cache
  std::atomic<std::uint64_t> cache_misses{0};  // loads that went to Redis
  std::atomic<std::uint64_t> invalidations{0};  // keys Redis said changed, and flushes
  std::atomic<std::uint64_t> renewals{0};       // TTL renewals sent on their own (PEXPIRE)
  std::atomic<std::uint64_t> cache_entries{0};  // sessions the cache holds now

  static void add(std::atomic<std::uint64_t>& c) { RedisStats::add(c); }
};

class SessionStore {
 public:
  // `connect_host`: the Redis host already resolved (see RedisClient::Options).
  // `writes`: the process's write marks, shared by its threads' stores (none: this store's
  // cache is checked only against Redis's invalidations).
  SessionStore(asio::io_context& ioc, const config::Sessions& cfg, std::string connect_host,
               SessionWrites* writes = nullptr);

  ~SessionStore();
  void start();  // on the io_context's thread
  // Connected, and no command waiting past its timeout since the last answer. Read by the admin
  // listener's thread, hence the atomics.
  bool up() const {
    return client_.stats().up.load(std::memory_order_relaxed) &&
           client_.stats().answering.load(std::memory_order_relaxed);
  }
  const RedisStats& stats() const { return client_.stats(); }
  SessionCounters& counters() { return counters_; }
  const SessionCounters& counters() const { return counters_; }
  const config::Sessions& config() const { return cfg_; }

  // The session of `id` from the thread's cache (its TTL renewed when due, without waiting), or
  // null: then load() it. Valid until the next call into the store. Never while the store is
  // down or the invalidations are not coming in.
  const std::string* cached(const SessionId& id);

  struct Loaded {
    error_code ec;  // the store did not answer in time, or failed
    bool found = false;
    std::string json;  // the session as a JSON object, when found
  };
  // The session of `id` from Redis, its TTL renewed when due, kept in the cache.
  asio::awaitable<Loaded> load(const SessionId& id);

  enum class Updated { applied, gone, taken };
  // Merges `fields` into the session. `create`: a new session, applied only while the id is
  // unused (else `taken`); otherwise applied only while the session exists (else `gone`: it
  // was cleared or expired meanwhile, and stays so).
  asio::awaitable<std::pair<error_code, Updated>> update(const SessionId& id, bool create,
                                                         std::span<const SessionField> fields);
  // Deletes the session.
  asio::awaitable<error_code> clear(const SessionId& id);

  // The cache, for tests.
  const SessionCache& cache() const { return cache_; }

 private:
  void renew(const SessionId& id);
  void on_connection();
  void on_invalidation(const RedisReply& payload);
  void track();
  void heartbeat();
  void count_entries();

  const config::Sessions& cfg_;
  std::string ttl_ms_;
  SessionCache::clock::duration ttl_;
  SessionCache::clock::duration renew_after_;  // an eighth of the TTL
  RedisClient client_;
  std::optional<RedisClient> invalidations_;  // when the cache is on
  SessionCache cache_;
  SessionWrites* writes_;
  std::uint64_t tracking_ = 0;  // moves on with each connection change: late answers are dropped
  bool tracking_refused_ = false;  // logged once
  asio::steady_timer heartbeat_;
  SessionCounters counters_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // handlers that outlive the store
};

// Builds the JSON object of a session from HGETALL's field/value list (names are JSON strings,
// values JSON text; the version field `v` left out).
std::string session_json(std::span<const std::string> hgetall);

// Whether a stored session may go into a header as it is: corral writes only serialized JSON,
// which escapes control characters, but the hash could have been written by something else.
bool header_safe(std::string_view json);

// The Lua script, for tests and the documentation.
extern const char* const session_update_script;

}  // namespace corral::session
