#include "proxy/sticky_metrics.hpp"

#include <fmt/format.h>

#include <chrono>

#include "proxy/proxy_thread.hpp"

namespace corral::proxy {

namespace {

// sticky.store: redis: what the threads' stores did.
void render_store_metrics(std::string& out,
                          const std::vector<std::unique_ptr<ProxyThread>>& threads) {
  if (!threads.front()->affinity_store) return;
  auto o = std::back_inserter(out);
  auto sum = [&](auto field) {
    std::uint64_t n = 0;
    for (const auto& t : threads)
      if (t->affinity_store) n += field(*t->affinity_store);
    return n;
  };
  auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  using Store = session::AffinityStore;
  fmt::format_to(o,
                 "# HELP corral_sticky_store_connections_up Proxy threads whose connection to "
                 "the sticky store (Redis) is ready.\n"
                 "# TYPE corral_sticky_store_connections_up gauge\n"
                 "corral_sticky_store_connections_up {}\n",
                 sum([](const Store& s) -> std::uint64_t { return s.up() ? 1 : 0; }));
  fmt::format_to(o,
                 "# HELP corral_sticky_store_operations_total What the sticky store was asked, "
                 "by result.\n"
                 "# TYPE corral_sticky_store_operations_total counter\n");
  auto row = [&](const char* op, const char* result, auto field) {
    fmt::format_to(o, "corral_sticky_store_operations_total{{op=\"{}\",result=\"{}\"}} {}\n", op,
                   result, sum([&](const Store& s) { return get(field(s.counters())); }));
  };
  using C = session::AffinityStoreCounters;
  using A = const std::atomic<std::uint64_t>&;
  row("lookup", "found", [](const C& c) -> A { return c.found; });
  row("lookup", "absent", [](const C& c) -> A { return c.absent; });
  row("save", "ok", [](const C& c) -> A { return c.written; });
  row("erase", "ok", [](const C& c) -> A { return c.erased; });
  row("renew", "ok", [](const C& c) -> A { return c.renewed; });
  row("any", "failed", [](const C& c) -> A { return c.failed; });
  fmt::format_to(o,
                 "# HELP corral_sticky_store_timeouts_total Sticky store commands not answered "
                 "within sticky.timeouts.command.\n"
                 "# TYPE corral_sticky_store_timeouts_total counter\n"
                 "corral_sticky_store_timeouts_total {}\n",
                 sum([&](const Store& s) { return get(s.stats().timeouts); }));
}

}  // namespace

void render_sticky_metrics(std::string& out, const SharedState& shared,
                           const std::vector<std::unique_ptr<ProxyThread>>& threads) {
  if (threads.empty() || !threads.front()->sticky) return;
  auto o = std::back_inserter(out);
  auto sum = [&](auto field) {
    std::uint64_t n = 0;
    for (const auto& t : threads) n += field(t->sticky->counters()).get();
    return n;
  };
  auto line = [&](const char* metric, const char* type, const char* help, std::uint64_t v) {
    fmt::format_to(o, "# HELP {} {}\n# TYPE {} {}\n{} {}\n", metric, help, metric, type, metric, v);
  };
  using C = const StickyRouterCounters&;
  line("corral_sticky_hits_total", "counter",
       "Requests routed to the slot their session is pinned to.",
       sum([](C c) -> const Counter& { return c.hits; }));
  line("corral_sticky_misses_total", "counter",
       "Requests without a known pin, placed by the fallback.",
       sum([](C c) -> const Counter& { return c.misses; }));
  line("corral_sticky_rehomed_total", "counter",
       "Pinned requests whose slot could not serve, placed anew (and re-pinned).",
       sum([](C c) -> const Counter& { return c.rehomed; }));
  line("corral_sticky_held_total", "counter",
       "Pinned requests that waited for their slot (on_unavailable: hold).",
       sum([](C c) -> const Counter& { return c.held; }));
  line("corral_sticky_hold_served_total", "counter",
       "Held requests that their own slot then served.",
       sum([](C c) -> const Counter& { return c.hold_served; }));
  line("corral_sticky_strict_rejections_total", "counter",
       "Pinned requests answered 503 because their slot could not serve (on_unavailable: strict).",
       sum([](C c) -> const Counter& { return c.strict_rejections; }));
  line("corral_sticky_cookies_issued_total", "counter",
       "Insert mode: corral_affinity cookies set on responses.",
       sum([](C c) -> const Counter& { return c.cookies_issued; }));
  line("corral_sticky_cookies_rejected_total", "counter",
       "Insert mode: corral_affinity cookies ignored as forged or malformed.",
       sum([](C c) -> const Counter& { return c.cookies_rejected; }));

  render_store_metrics(out, threads);
  if (!shared.affinity) return;
  const auto& table = *shared.affinity;
  const auto counters = table.counters();
  line("corral_sticky_table_entries", "gauge", "Sessions in the learned affinity table.",
       table.size());
  line("corral_sticky_table_max_entries", "gauge", "The table's bound (sticky.max_entries).",
       table.max_entries());
  line("corral_sticky_table_bytes", "gauge", "Memory the affinity table holds.",
       table.memory_bytes());
  line("corral_sticky_table_hits_total", "counter", "Table lookups that found a live pin.",
       counters.hits);
  line("corral_sticky_table_misses_total", "counter", "Table lookups that found none.",
       counters.misses);
  line("corral_sticky_learned_total", "counter",
       "Pins learned from a Set-Cookie, or moved by a re-home.", counters.learned);
  line("corral_sticky_expired_total", "counter", "Pins dropped after sticky.idle_ttl unused.",
       counters.expired);
  line("corral_sticky_evicted_total", "counter", "Pins dropped to stay within sticky.max_entries.",
       counters.evicted);
  line("corral_sticky_forgotten_total", "counter",
       "Pins dropped because the app deleted its cookie.", counters.forgotten);
  const auto per_slot =
      table.sessions_per_slot(shared.upstreams.size(), std::chrono::steady_clock::now());
  fmt::format_to(o,
                 "# HELP corral_sticky_sessions Live pinned sessions per upstream.\n"
                 "# TYPE corral_sticky_sessions gauge\n");
  for (std::size_t s = 0; s < per_slot.size(); ++s)
    fmt::format_to(o, "corral_sticky_sessions{{upstream=\"{}\"}} {}\n", shared.upstreams[s].name,
                   per_slot[s]);
}

}  // namespace corral::proxy
