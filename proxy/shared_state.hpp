#pragma once
// What every proxy thread of one proxy generation shares: the configuration, the resolved
// upstreams, their slot table and health, and the drain flag. Only atomics change at run time.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "balancer/slot_table.hpp"
#include "config/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/dispatch_queue.hpp"
#include "proxy/upstream_health.hpp"
#include "proxy/ticket_keys.hpp"
#include "proxy/tls_server.hpp"
#include "session/affinity_table.hpp"
#include "session/session_writes.hpp"

namespace corral::proxy {

// An upstream as the data path sees it.
struct UpstreamTarget {
  std::string name;  // "127.0.0.1:3000" as in the config, or "slot0" for a worker; the metrics label
  tcp::endpoint endpoint;
};

class SharedState {
 public:
  // Resolves the upstream addresses once; throws std::runtime_error naming one that does not resolve.
  // With worker_slots > 0 the upstreams are that many worker slots instead, without an address
  // and out of selection until the master's membership says they are ready.
  explicit SharedState(config::Config cfg, std::size_t worker_slots = 0);

  const config::Config cfg;
  // Names never change; endpoints change only on the control thread (membership), and each
  // proxy thread keeps its own copy (ProxyThread::endpoints).
  std::vector<UpstreamTarget> upstreams;
  const bool worker_mode;
  // Control thread only: the slot may be probed and re-admitted (static upstreams: always;
  // worker slots: while the master says ready).
  std::vector<char> admitted;
  balancer::SlotTable slots;
  UpstreamHealth health;
  DispatchQueue queue;  // worker slots: their in-flight limits and the requests waiting for one
  // Learn mode's pins, shared by every thread (null unless balance: sticky, mode: learn).
  std::unique_ptr<session::AffinityTable> affinity;
  // Shared-state mode: the sessions written through any thread, so that no thread serves a
  // cached copy older than a write another thread has answered.
  session::SessionWrites session_writes;
  std::atomic<bool> draining{false};
  std::atomic<std::uint64_t> open_connections{0};
  const std::uint32_t id_prefix;  // random per process: request ids differ across restarts
  // By listener (cfg.listen's order): the certificates of a TLS listener, read once here (a
  // reload starts a new generation, which reads them again); null for a plain one.
  std::vector<std::shared_ptr<const ListenerTlsFiles>> listener_tls;
  TicketKeys ticket_keys;  // session tickets of every TLS listener and thread
};

// Resolves "host:port" from the config to an endpoint ("localhost" included).
tcp::endpoint resolve_address(const config::Address& a);

}  // namespace corral::proxy
