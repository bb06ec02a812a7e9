#pragma once
// What every proxy thread of one proxy generation shares: the configuration, the resolved
// upstreams, their slot table and health, and the drain flag. Only atomics change at run time.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "balancer/slot_table.hpp"
#include "config/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/upstream_health.hpp"

namespace corral::proxy {

// An upstream as the data path sees it.
struct UpstreamTarget {
  std::string name;  // "127.0.0.1:3000", as in the config; the metrics label
  tcp::endpoint endpoint;
};

class SharedState {
 public:
  // Resolves the upstream addresses once; throws std::runtime_error naming one that does not resolve.
  explicit SharedState(config::Config cfg);

  const config::Config cfg;
  const std::vector<UpstreamTarget> upstreams;
  balancer::SlotTable slots;
  UpstreamHealth health;
  std::atomic<bool> draining{false};
  std::atomic<std::uint64_t> open_connections{0};
  const std::uint32_t id_prefix;  // random per process: request ids differ across restarts
};

// Resolves "host:port" from the config to an endpoint ("localhost" included).
tcp::endpoint resolve_address(const config::Address& a);

}  // namespace corral::proxy
