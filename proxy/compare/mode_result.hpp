#pragma once
// What one mode's run measured, for the reports: the users' view (load stats) and corral's
// (per-worker requests from its status, Redis round trips and re-homed sessions from /metrics,
// the proxy's CPU from /proc), with the faults as they happened.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proxy/compare/fault_schedule.hpp"
#include "proxy/compare/load_stats.hpp"
#include "proxy/compare/scenario.hpp"

namespace corral::compare {

// A fault as it happened.
struct FaultEvent {
  double at_s = 0;
  FaultKind kind = FaultKind::kill_worker;
  std::string detail;  // "slot 2 (pid 4242)"
};

// One mode's figures.
struct ModeResult {
  Mode mode = Mode::round_robin;
  std::string label;    // the mode's name, or the experiment's in the article scenario
  std::string skipped;  // why it did not run (empty: it ran)
  double seconds = 0;   // how long the load ran
  LoadStats load;
  std::vector<std::uint64_t> worker_requests;               // per slot, over the run
  std::vector<std::vector<std::uint64_t>> worker_timeline;  // [second][slot] requests
  std::optional<std::uint64_t> rehomed;                     // sticky modes: sessions re-homed
  double redis_per_request = 0;
  double proxy_cpu_percent = 0;  // 100 = one core
  std::uint64_t masked_failures = 0;
  std::vector<FaultEvent> faults;

  double requests_per_second() const { return seconds > 0 ? double(load.requests) / seconds : 0; }
};

// The whole comparison, as the report writers take it.
struct CompareReport {
  std::string scenario_name = "sessions";  // or "article"
  Scenario scenario;
  std::string started_at;  // ISO 8601, UTC
  unsigned cores = 0;
  std::string machine;  // a short description (CPU model)
  std::vector<ModeResult> modes;
  std::vector<std::string> notes;  // shown under the table
};

}  // namespace corral::compare
