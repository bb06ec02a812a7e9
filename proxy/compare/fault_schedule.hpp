#pragma once
// The faults of one mode's run, in time order: worker kills every `kill_every`, one rolling
// restart, one Redis restart. Pure: which worker a kill hits is chosen when it happens.
#include <string_view>
#include <vector>

#include "proxy/compare/scenario.hpp"

namespace corral::compare {

enum class FaultKind { kill_worker, rolling_restart, redis_restart };

std::string_view to_string(FaultKind k);

// One planned fault.
struct Fault {
  Millis at{0};
  FaultKind kind = FaultKind::kill_worker;
};

// Every fault of `plan` that falls strictly inside (0, duration), ordered by time (a kill and
// a restart at the same moment: the restart first). `with_redis`: the mode has a Redis to
// restart.
std::vector<Fault> plan_faults(const FaultPlan& plan, Millis duration, bool with_redis);

}  // namespace corral::compare
