#pragma once
// The shared session store: sessions as Redis hashes, one field per top-level JSON field, read
// and changed only through two Lua scripts so that each step is one atomic round trip.
#include <boost/asio/awaitable.hpp>
#include <span>
#include <string>

#include "config/config.hpp"
#include "session/redis_client.hpp"
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

  static void add(std::atomic<std::uint64_t>& c) { RedisStats::add(c); }
};

class SessionStore {
 public:
  // `connect_host`: the Redis host already resolved (see RedisClient::Options).
  SessionStore(asio::io_context& ioc, const config::Sessions& cfg, std::string connect_host);

  void start() { client_.start(); }  // on the io_context's thread
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

  struct Loaded {
    error_code ec;  // the store did not answer in time, or failed
    bool found = false;
    std::string json;  // the session as a JSON object, when found
  };
  // The session of `id` with its TTL renewed, in one round trip.
  asio::awaitable<Loaded> load(const SessionId& id);

  enum class Updated { applied, gone, taken };
  // Merges `fields` into the session. `create`: a new session, applied only while the id is
  // unused (else `taken`); otherwise applied only while the session exists (else `gone`: it
  // was cleared or expired meanwhile, and stays so).
  asio::awaitable<std::pair<error_code, Updated>> update(const SessionId& id, bool create,
                                                         std::span<const SessionField> fields);
  // Deletes the session.
  asio::awaitable<error_code> clear(const SessionId& id);

 private:
  const config::Sessions& cfg_;
  std::string ttl_ms_;
  RedisClient client_;
  SessionCounters counters_;
};

// The Lua scripts, for tests and the documentation.
extern const char* const session_load_script;
extern const char* const session_update_script;

}  // namespace corral::session
