#pragma once
// Runs one mode from start to end: its own Redis (shared mode), a fresh corral with the mode's
// config, the users' load, the faults on schedule, corral's figures sampled every second; then
// stops everything it started, also on an error or an interruption.
#include <atomic>
#include <string>

#include "proxy/compare/mode_result.hpp"
#include "proxy/compare/progress_line.hpp"
#include "proxy/compare/scenario.hpp"

namespace corral::compare {

// Where the app's command runs and what it is: resolved once for every mode.
struct ResolvedApp {
  std::vector<std::string> command;
  std::string cwd;    // absolute
  bool demo = false;  // deploy/demo/server.js (cluster.js beside it)
};

// Runs `mode`; files (config, corral.log, redis.log) go to `dir`. `interrupted` ends the run
// early (Ctrl-C). A mode that cannot run (no redis-server, corral not ready) comes back with
// `skipped` saying why.
ModeResult run_mode(const Scenario& scenario, const ResolvedApp& app, Mode mode,
                    const std::string& dir, std::uint64_t seed, ProgressLine& progress,
                    const std::atomic<bool>& interrupted);

class RedisInstance;

// The part of run_mode after its Redis: corral started from `yaml` in `dir`, the load and the
// faults of `scenario`, the figures into `result` (its mode and label already set). Also the
// article scenario's experiments, with their own configs.
ModeResult run_on_corral(const Scenario& scenario, ModeResult result, const std::string& yaml,
                         const std::string& dir, RedisInstance* redis, std::uint64_t seed,
                         ProgressLine& progress, const std::atomic<bool>& interrupted);

}  // namespace corral::compare
