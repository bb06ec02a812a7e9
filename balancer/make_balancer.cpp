#include <memory>

#include "balancer/balancer.hpp"
#include "balancer/consistent_hash.hpp"
#include "balancer/least_loaded.hpp"
#include "balancer/round_robin.hpp"
#include "balancer/sticky.hpp"

namespace corral::balancer {

std::unique_ptr<Balancer> make_balancer(config::Balance kind, SlotTable& table) {
  switch (kind) {
    case config::Balance::round_robin:
      return std::make_unique<RoundRobin>(table);
    case config::Balance::least_loaded:
      return std::make_unique<LeastLoaded>(table);
    case config::Balance::sticky:
      break;  // needs the sticky section
  }
  // config::validate only lets the kinds above through.
  return std::make_unique<RoundRobin>(table);
}

std::unique_ptr<Balancer> make_balancer(const config::Config& config, SlotTable& table) {
  if (config.balance != config::Balance::sticky || !config.sticky)
    return make_balancer(config.balance, table);
  const config::Sticky& s = *config.sticky;
  auto fallback = make_balancer(s.fallback, table);
  if (s.mode == config::StickyMode::hash)
    return std::make_unique<ConsistentHash>(table, std::move(fallback), s.balance_factor);
  return std::make_unique<Sticky>(table, std::move(fallback), s.on_unavailable);
}

}  // namespace corral::balancer
