#pragma once
// `corral compare --scenario article`: the experiments of the article behind the project
// (docs/compare.md), on this machine: the CPU-bound app as one process and as a cluster under
// corral (and under Node's own cluster module when Node is installed), requests failed with
// random crashes, and during a rolling restart; the article's figures beside ours.
#include <atomic>
#include <string>

#include "proxy/compare/mode_result.hpp"
#include "proxy/compare/mode_runner.hpp"
#include "proxy/compare/progress_line.hpp"

namespace corral::compare {

// Runs every experiment, adding one ModeResult each (label: the experiment) and the article's
// figures as notes to `report`.
void run_article(CompareReport& report, const ResolvedApp& app, const std::string& out_dir,
                 ProgressLine& progress, const std::atomic<bool>& interrupted);

}  // namespace corral::compare
