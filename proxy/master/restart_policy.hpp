#pragma once
// When a crashed worker is started again: exponential backoff with jitter, and the crash loop
// that marks a slot errored. Pure: the random draw is passed in.
#include "config/config.hpp"

namespace corral::master {

// What to do after a worker's unplanned exit or failed start.
struct RestartDecision {
  unsigned crashes_in_a_row = 1;  // including this one
  bool errored = false;           // crash_loop reached: retry every max_backoff
  config::Duration delay{0};      // before the next start
};

// The wait before restart number `crashes_in_a_row` (1 = the first crash): backoff doubled
// for each earlier crash in a row, times a jitter factor 0.8..1.2 from `random01` (in [0, 1)),
// never more than max_backoff.
config::Duration backoff_delay(const config::WorkerRestart& policy, unsigned crashes_in_a_row,
                               double random01);

// `crashes_before`: failed starts in a row before this one; `uptime`: how long the worker ran
// (0 for a failed start); `became_ready`: it was ready (the proxy routed to it). A worker that
// became ready and ran at least min_uptime is no crash loop, whatever it died of: it starts the
// count anew and comes back after the first backoff step, as does one that ran reset_after.
RestartDecision decide_restart(const config::WorkerRestart& policy, unsigned crashes_before,
                               config::Duration uptime, bool became_ready, double random01);

}  // namespace corral::master
