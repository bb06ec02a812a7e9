#include "proxy/shared_state.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace corral::proxy {

namespace {

std::vector<UpstreamTarget> resolve_upstreams(const config::Config& cfg) {
  std::vector<UpstreamTarget> out;
  out.reserve(cfg.upstreams.size());
  for (const auto& u : cfg.upstreams) out.push_back({u.address.text, resolve_address(u.address)});
  return out;
}

std::vector<unsigned> weights_of(const config::Config& cfg) {
  std::vector<unsigned> w;
  for (const auto& u : cfg.upstreams) w.push_back(u.weight);
  return w;
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

SharedState::SharedState(config::Config c)
    : cfg(std::move(c)),
      upstreams(resolve_upstreams(cfg)),
      slots(weights_of(cfg)),
      health(slots, std::chrono::milliseconds(500), std::chrono::milliseconds(30000)),
      id_prefix(random_prefix()) {}

}  // namespace corral::proxy
