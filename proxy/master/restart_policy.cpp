#include "proxy/master/restart_policy.hpp"

#include <algorithm>
#include <cmath>

namespace corral::master {

config::Duration backoff_delay(const config::WorkerRestart& policy, unsigned crashes_in_a_row,
                               double random01) {
  const double max = static_cast<double>(policy.max_backoff.count());
  double delay = static_cast<double>(policy.backoff.count());
  // Doubling stops at the cap, so a long crash loop cannot overflow.
  for (unsigned i = 1; i < crashes_in_a_row && delay < max; ++i) delay *= 2;
  delay = std::min(delay, max);
  delay *= 0.8 + 0.4 * std::clamp(random01, 0.0, 1.0);
  return config::Duration(static_cast<config::Duration::rep>(std::llround(std::min(delay, max))));
}

RestartDecision decide_restart(const config::WorkerRestart& policy, unsigned crashes_before,
                               config::Duration uptime, bool became_ready, double random01) {
  RestartDecision d;
  const bool ran = (became_ready && uptime >= policy.min_uptime) || uptime >= policy.reset_after;
  d.crashes_in_a_row = ran ? 1 : crashes_before + 1;
  d.errored = !ran && d.crashes_in_a_row >= policy.crash_loop;
  d.delay = d.errored ? policy.max_backoff : backoff_delay(policy, d.crashes_in_a_row, random01);
  return d;
}

}  // namespace corral::master
