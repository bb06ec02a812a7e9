#include "proxy/session_metrics.hpp"

#include <fmt/format.h>

#include "proxy/proxy_thread.hpp"

namespace corral::proxy {

namespace {

template <class F>
std::uint64_t sum(const std::vector<std::unique_ptr<ProxyThread>>& threads, F f) {
  std::uint64_t n = 0;
  for (const auto& t : threads)
    if (t->sessions) n += f(*t->sessions);
  return n;
}

std::uint64_t get(const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); }

}  // namespace

void append_session_metrics(std::string& out,
                            const std::vector<std::unique_ptr<ProxyThread>>& threads) {
  if (threads.empty() || !threads.front()->sessions) return;
  auto o = std::back_inserter(out);
  using Store = session::SessionStore;
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    fmt::format_to(o, "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
  };
  metric("corral_session_store_connections_up", "gauge",
         "Proxy threads whose Redis connection is ready.",
         sum(threads, [](const Store& s) -> std::uint64_t { return s.stats().up.load() ? 1 : 0; }));
  metric("corral_redis_commands_total", "counter",
         "Commands sent to Redis (each one round trip, pipelined).",
         sum(threads, [](const Store& s) { return get(s.stats().commands); }));
  metric("corral_redis_errors_total", "counter",
         "Redis commands answered with an error, lost with the connection, or refused while "
         "disconnected.",
         sum(threads, [](const Store& s) { return get(s.stats().errors); }));
  metric("corral_redis_timeouts_total", "counter",
         "Redis commands not answered within sessions.timeouts.command.",
         sum(threads, [](const Store& s) { return get(s.stats().timeouts); }));
  metric("corral_redis_reconnects_total", "counter",
         "Connection attempts to Redis after the first.",
         sum(threads, [](const Store& s) { return get(s.stats().reconnects); }));
  fmt::format_to(o,
                 "# HELP corral_redis_command_duration_seconds Time from sending a Redis command "
                 "to its answer.\n"
                 "# TYPE corral_redis_command_duration_seconds summary\n"
                 "corral_redis_command_duration_seconds_sum {:.6f}\n"
                 "corral_redis_command_duration_seconds_count {}\n",
                 sum(threads, [](const Store& s) { return get(s.stats().latency_us_sum); }) / 1e6,
                 sum(threads, [](const Store& s) { return get(s.stats().answered); }));
  fmt::format_to(o,
                 "# HELP corral_sessions_total What the session store did for requests.\n"
                 "# TYPE corral_sessions_total counter\n");
  auto row = [&](const char* what, auto field) {
    fmt::format_to(o, "corral_sessions_total{{result=\"{}\"}} {}\n", what,
                   sum(threads, [&](const Store& s) { return get(field(s.counters())); }));
  };
  using C = session::SessionCounters;
  row("loaded", [](const C& c) -> const std::atomic<std::uint64_t>& { return c.loaded; });
  row("unknown", [](const C& c) -> const std::atomic<std::uint64_t>& { return c.unknown; });
  row("created", [](const C& c) -> const std::atomic<std::uint64_t>& { return c.created; });
  row("updated", [](const C& c) -> const std::atomic<std::uint64_t>& { return c.updated; });
  row("cleared", [](const C& c) -> const std::atomic<std::uint64_t>& { return c.cleared; });
  row("gone", [](const C& c) -> const std::atomic<std::uint64_t>& { return c.gone; });
  row("store_failure",
      [](const C& c) -> const std::atomic<std::uint64_t>& { return c.store_failures; });
  fmt::format_to(o,
                 "# HELP corral_session_cache_total Session loads answered by the proxy "
                 "threads' caches (hit) or sent to Redis with the cache on (miss).\n"
                 "# TYPE corral_session_cache_total counter\n"
                 "corral_session_cache_total{{result=\"hit\"}} {}\n"
                 "corral_session_cache_total{{result=\"miss\"}} {}\n",
                 sum(threads, [](const Store& s) { return get(s.counters().cache_hits); }),
                 sum(threads, [](const Store& s) { return get(s.counters().cache_misses); }));
  metric("corral_session_cache_entries", "gauge", "Sessions held by the proxy threads' caches.",
         sum(threads, [](const Store& s) { return get(s.counters().cache_entries); }));
  metric("corral_session_cache_invalidations_total", "counter",
         "Invalidation messages from Redis (changed keys, flushes).",
         sum(threads, [](const Store& s) { return get(s.counters().invalidations); }));
  metric("corral_session_ttl_renewals_total", "counter",
         "Session TTL renewals sent on their own (PEXPIRE, not awaited).",
         sum(threads, [](const Store& s) { return get(s.counters().renewals); }));
}

bool session_store_up(const std::vector<std::unique_ptr<ProxyThread>>& threads) {
  for (const auto& t : threads)
    if (t->sessions && !t->sessions->up()) return false;
  return true;
}

}  // namespace corral::proxy
