#pragma once
// `corral compare`: the subcommand's flags, and the whole run: each mode in turn on a fresh
// corral, then the terminal table and report.md, report.json, report.html in --out.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace corral::compare {

// The `compare` subcommand of the corral CLI.
class CompareCommand {
 public:
  // Adds the subcommand and its flags to `app`.
  explicit CompareCommand(CLI::App& app);
  bool parsed() const { return sub_->parsed(); }
  // Runs it; the exit code (0, 1 when no mode ran, 2 for a bad scenario, 130 on Ctrl-C).
  int run();

 private:
  CLI::App* sub_ = nullptr;
  std::string scenario_file_;
  std::string scenario_name_ = "sessions";
  std::uint32_t users_ = 0;
  std::uint32_t workers_ = 0;
  std::string duration_;
  std::string think_;
  std::string kill_every_;
  std::string rolling_restart_at_;
  std::string redis_restart_at_;
  std::string modes_;
  std::string out_;
  std::uint64_t seed_ = 0;
};

}  // namespace corral::compare
