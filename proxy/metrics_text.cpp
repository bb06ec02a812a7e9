#include "proxy/metrics_text.hpp"

#include <fmt/format.h>

#include "proxy/proxy_thread.hpp"
#include "proxy/sticky_metrics.hpp"
#include "proxy/session_metrics.hpp"

namespace corral::proxy {

namespace {

template <typename F>
std::uint64_t sum(const std::vector<std::unique_ptr<ProxyThread>>& threads, F f) {
  std::uint64_t n = 0;
  for (const auto& t : threads) n += f(*t);
  return n;
}

}  // namespace

std::string render_metrics(const SharedState& shared,
                           const std::vector<std::unique_ptr<ProxyThread>>& threads) {
  std::string out;
  auto o = std::back_inserter(out);
  const auto n = shared.upstreams.size();
  auto name = [&](std::size_t row) -> std::string_view {
    return row < n ? std::string_view(shared.upstreams[row].name) : std::string_view("none");
  };

  fmt::format_to(o, "# HELP corral_requests_total Requests answered, by upstream and status class.\n"
                    "# TYPE corral_requests_total counter\n");
  static constexpr const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (std::size_t row = 0; row <= n; ++row)
    for (int c = 0; c < 5; ++c) {
      auto v = sum(threads, [&](const ProxyThread& t) { return t.metrics.upstreams[row].by_class[c].get(); });
      if (v || row < n) fmt::format_to(o, "corral_requests_total{{upstream=\"{}\",class=\"{}\"}} {}\n", name(row), classes[c], v);
    }

  fmt::format_to(o, "# HELP corral_request_duration_seconds Time from request header to response end.\n"
                    "# TYPE corral_request_duration_seconds histogram\n");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= latency_buckets.size(); ++b) {
    cumulative += sum(threads, [&](const ProxyThread& t) { return t.metrics.latency[b].get(); });
    if (b < latency_buckets.size())
      fmt::format_to(o, "corral_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", latency_buckets[b], cumulative);
    else
      fmt::format_to(o, "corral_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  }
  fmt::format_to(o, "corral_request_duration_seconds_sum {:.6f}\ncorral_request_duration_seconds_count {}\n",
                 sum(threads, [](const ProxyThread& t) { return t.metrics.latency_sum_us.get(); }) / 1e6,
                 cumulative);

  fmt::format_to(o, "# HELP corral_in_flight Requests in flight per upstream.\n# TYPE corral_in_flight gauge\n");
  for (std::size_t s = 0; s < n; ++s)
    fmt::format_to(o, "corral_in_flight{{upstream=\"{}\"}} {}\n", name(s),
                   shared.slots.in_flight(static_cast<balancer::SlotId>(s)));
  fmt::format_to(o, "# HELP corral_upstream_up 1 when the upstream takes new requests.\n# TYPE corral_upstream_up gauge\n");
  for (std::size_t s = 0; s < n; ++s)
    fmt::format_to(o, "corral_upstream_up{{upstream=\"{}\"}} {}\n", name(s),
                   shared.slots.usable(static_cast<balancer::SlotId>(s)) ? 1 : 0);

  auto per_upstream = [&](const char* metric, const char* help, auto field) {
    fmt::format_to(o, "# HELP {} {}\n# TYPE {} counter\n", metric, help, metric);
    for (std::size_t s = 0; s < n; ++s)
      fmt::format_to(o, "{}{{upstream=\"{}\"}} {}\n", metric, name(s),
                     sum(threads, [&](const ProxyThread& t) { return field(t.metrics.upstreams[s]).get(); }));
  };
  per_upstream("corral_upstream_connect_failures_total", "Failed connects to the upstream.",
               [](const ThreadMetrics::Upstream& u) -> const Counter& { return u.connect_failures; });
  per_upstream("corral_ejections_total", "Times the upstream was ejected after failures.",
               [](const ThreadMetrics::Upstream& u) -> const Counter& { return u.ejections; });

  auto global = [&](const char* metric, const char* type, const char* help, std::uint64_t v) {
    fmt::format_to(o, "# HELP {} {}\n# TYPE {} {}\n{} {}\n", metric, help, metric, type, metric, v);
  };
  global("corral_retries_total", "counter", "Requests tried again on another upstream.",
         sum(threads, [](const ProxyThread& t) { return t.metrics.retries.get(); }));
  global("corral_masked_failures_total", "counter", "Requests served after an upstream failed them.",
         sum(threads, [](const ProxyThread& t) { return t.metrics.masked_failures.get(); }));
  global("corral_connections_accepted_total", "counter", "Client connections accepted.",
         sum(threads, [](const ProxyThread& t) { return t.metrics.connections_accepted.get(); }));
  global("corral_connections_refused_total", "counter", "Client connections refused over limits.max_connections.",
         sum(threads, [](const ProxyThread& t) { return t.metrics.connections_refused.get(); }));
  global("corral_connections_open", "gauge", "Client connections open.",
         shared.open_connections.load(std::memory_order_relaxed));
  global("corral_draining", "gauge", "1 while the proxy drains.", shared.draining.load() ? 1 : 0);
  if (shared.queue.enabled()) {
    fmt::format_to(o, "# HELP corral_in_flight_limit Requests a worker slot takes at once (adaptive or fixed).\n"
                      "# TYPE corral_in_flight_limit gauge\n");
    for (std::size_t s = 0; s < n; ++s)
      fmt::format_to(o, "corral_in_flight_limit{{upstream=\"{}\"}} {}\n", name(s),
                     shared.slots.limit(static_cast<balancer::SlotId>(s)));
    const QueueStats q = shared.queue.stats();
    global("corral_queue_length", "gauge", "Requests waiting in the proxy's queue for a worker slot.",
           shared.queue.length());
    global("corral_queue_requests_total", "counter", "Requests that had to wait for a worker slot.",
           q.queued);
    fmt::format_to(o, "# HELP corral_queue_wait_seconds_total Time requests spent waiting for a worker slot.\n"
                      "# TYPE corral_queue_wait_seconds_total counter\ncorral_queue_wait_seconds_total {:.6f}\n",
                   static_cast<double>(q.wait_ns) / 1e9);
    global("corral_queue_timeouts_total", "counter", "Requests answered 503 after timeouts.queue.",
           q.timeouts);
    global("corral_queue_full_total", "counter", "Requests answered 503 at once: limits.max_queue were waiting.",
           q.full);
    global("corral_queue_abandoned_total", "counter", "Requests whose client went away while they waited.",
           q.abandoned);
  }
  render_sticky_metrics(out, shared, threads);
  append_session_metrics(out, threads);
  return out;
}

}  // namespace corral::proxy
