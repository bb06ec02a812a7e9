#include <memory>

#include "balancer/balancer.hpp"
#include "balancer/least_loaded.hpp"
#include "balancer/round_robin.hpp"

namespace corral::balancer {

std::unique_ptr<Balancer> make_balancer(config::Balance kind, SlotTable& table) {
  switch (kind) {
    case config::Balance::round_robin:
      return std::make_unique<RoundRobin>(table);
    case config::Balance::least_loaded:
      return std::make_unique<LeastLoaded>(table);
  }
  // config::validate only lets the kinds above through.
  return std::make_unique<RoundRobin>(table);
}

}  // namespace corral::balancer
