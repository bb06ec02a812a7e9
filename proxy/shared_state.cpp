#include "proxy/shared_state.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace corral::proxy {

namespace {

std::vector<UpstreamTarget> resolve_upstreams(const config::Config& cfg, std::size_t worker_slots) {
  std::vector<UpstreamTarget> out;
  if (worker_slots > 0) {
    for (std::size_t i = 0; i < worker_slots; ++i) out.push_back({"slot" + std::to_string(i), {}});
    return out;
  }
  out.reserve(cfg.upstreams.size());
  for (const auto& u : cfg.upstreams) out.push_back({u.address.text, resolve_address(u.address)});
  return out;
}

std::vector<unsigned> weights_of(const config::Config& cfg, std::size_t worker_slots) {
  if (worker_slots > 0) return std::vector<unsigned>(worker_slots, 1);
  std::vector<unsigned> w;
  for (const auto& u : cfg.upstreams) w.push_back(u.weight);
  return w;
}

std::unique_ptr<session::AffinityTable> affinity_table_for(const config::Config& cfg) {
  if (cfg.balance != config::Balance::sticky || !cfg.sticky ||
      cfg.sticky->mode != config::StickyMode::learn)
    return nullptr;
  session::AffinityTableOptions options;
  options.max_entries = cfg.sticky->max_entries;
  options.idle_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.sticky->idle_ttl);
  return std::make_unique<session::AffinityTable>(options);
}

std::vector<std::shared_ptr<const ListenerTlsFiles>> load_listener_tls_files(
    const config::Config& cfg) {
  std::vector<std::shared_ptr<const ListenerTlsFiles>> out;
  for (std::size_t i = 0; i < cfg.listen.size(); ++i) {
    const auto& tls = cfg.listen[i].tls;
    out.push_back(tls ? std::make_shared<ListenerTlsFiles>(load_listener_tls(
                            *tls, "listen[" + std::to_string(i) + "].tls"))
                      : nullptr);
  }
  return out;
}

void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

std::uint32_t random_prefix() {
  std::uint32_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

}  // namespace

tcp::endpoint resolve_address(const config::Address& a) {
  error_code ec;
  auto ip = asio::ip::make_address(a.host, ec);
  if (!ec) return {ip, a.port};
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
  if (ec || results.empty())
    throw std::runtime_error("cannot resolve '" + a.text + "': " + ec.message());
  return results.begin()->endpoint();
}

SharedState::SharedState(config::Config c, std::size_t worker_slots)
    : cfg(std::move(c)),
      upstreams(resolve_upstreams(cfg, worker_slots)),
      worker_mode(worker_slots > 0),
      slots(weights_of(cfg, worker_slots)),
      health(slots, std::chrono::milliseconds(500), std::chrono::milliseconds(30000)),
      queue(cfg, slots, worker_slots > 0),
      affinity(affinity_table_for(cfg)),
      id_prefix(random_prefix()),
      listener_tls(load_listener_tls_files(cfg)),
      // Keys rotate hourly; a ticket opens for 2 to 3 hours (lifetime() tells clients 2).
      ticket_keys(std::chrono::hours(1), 3, random_bytes) {
  admitted.assign(upstreams.size(), worker_mode ? 0 : 1);
  if (worker_mode)
    for (std::size_t i = 0; i < upstreams.size(); ++i) slots.set_usable(static_cast<balancer::SlotId>(i), false);
}

}  // namespace corral::proxy
