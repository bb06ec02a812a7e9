#include "proxy/compare/fault_schedule.hpp"

#include <algorithm>

namespace corral::compare {

std::string_view to_string(FaultKind k) {
  switch (k) {
    case FaultKind::kill_worker:
      return "kill";
    case FaultKind::rolling_restart:
      return "rolling restart";
    case FaultKind::redis_restart:
      return "redis restart";
  }
  return "?";
}

std::vector<Fault> plan_faults(const FaultPlan& plan, Millis duration, bool with_redis) {
  std::vector<Fault> out;
  auto inside = [&](Millis t) { return t.count() > 0 && t < duration; };
  if (plan.kill_every.count() > 0) {
    for (Millis t = plan.kill_every; inside(t); t += plan.kill_every)
      out.push_back({t, FaultKind::kill_worker});
  }
  if (plan.rolling_restart_at && inside(*plan.rolling_restart_at))
    out.push_back({*plan.rolling_restart_at, FaultKind::rolling_restart});
  if (with_redis && plan.redis_restart_at && inside(*plan.redis_restart_at))
    out.push_back({*plan.redis_restart_at, FaultKind::redis_restart});
  std::stable_sort(out.begin(), out.end(), [](const Fault& a, const Fault& b) {
    if (a.at != b.at) return a.at < b.at;
    return a.kind != FaultKind::kill_worker && b.kind == FaultKind::kill_worker;
  });
  return out;
}

}  // namespace corral::compare
