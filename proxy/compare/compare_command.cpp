#include "proxy/compare/compare_command.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "proxy/compare/article.hpp"
#include "proxy/compare/child_process.hpp"
#include "proxy/compare/corral_instance.hpp"
#include "proxy/compare/mode_runner.hpp"
#include "proxy/compare/report_html.hpp"
#include "proxy/compare/report_json.hpp"
#include "proxy/compare/report_markdown.hpp"
#include "proxy/compare/report_table.hpp"
#include "proxy/compare/scenario_file.hpp"

namespace corral::compare {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> interrupted{false};

void on_signal(int) { interrupted.store(true); }

// The demo app next to the binary (build/corral, an install) or in the source tree.
std::string find_demo_app() {
  std::vector<fs::path> candidates;
  if (const char* dir = std::getenv("CORRAL_DEMO_DIR"); dir && *dir)
    candidates.push_back(fs::path(dir) / "server.js");
  const fs::path exe_dir = fs::path(self_binary()).parent_path();
  candidates.push_back(exe_dir / "deploy/demo/server.js");
  candidates.push_back(exe_dir / "../deploy/demo/server.js");
  candidates.push_back(exe_dir / "../share/corral/demo/server.js");
#ifdef CORRAL_SOURCE_DIR
  candidates.push_back(fs::path(CORRAL_SOURCE_DIR) / "deploy/demo/server.js");
#endif
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return fs::weakly_canonical(c, ec).string();
  }
  return {};
}

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with("model name")) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return {};
}

bool write_file(const fs::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace

CompareCommand::CompareCommand(CLI::App& app) {
  sub_ = app.add_subcommand(
      "compare",
      "Run one user workload through sticky-learn, sticky-insert, shared (Redis) and round-robin "
      "modes, with worker kills and a rolling restart, and report how each kept users' sessions");
  sub_->add_option("-c,--config", scenario_file_,
                   "compare.yaml: your app and workload (default: the demo app)");
  sub_->add_option("--scenario", scenario_name_,
                   "sessions (the mode comparison) or article (the article's experiments)")
      ->check(CLI::IsMember({"sessions", "article"}))
      ->capture_default_str();
  sub_->add_option("--users", users_, "Simulated users (default 200)");
  sub_->add_option("--workers", workers_, "Worker processes (default 4)");
  sub_->add_option("--duration", duration_, "Load per mode, e.g. 30s (default 15s)");
  sub_->add_option("--think", think_, "Mean think time between a user's requests (default 100ms)");
  sub_->add_option("--kill-every", kill_every_,
                   "Kill a random worker this often; off: never (default 6s)");
  sub_->add_option(
      "--rolling-restart-at", rolling_restart_at_,
      "Rolling restart (corral reload) this far into each mode; off: none (default 9s)");
  sub_->add_option("--redis-restart-at", redis_restart_at_,
                   "Restart Redis this far into shared mode (default: never)");
  sub_->add_option("--modes", modes_,
                   "Comma-separated: sticky-learn,sticky-insert,shared,round-robin (default: all)");
  sub_->add_option("--out", out_, "Directory for the reports (default ./corral-compare)");
  sub_->add_option("--seed", seed_, "Random seed (default: from the clock)");
}

int CompareCommand::run() {
  Scenario s;
  if (!scenario_file_.empty()) {
    auto problems = read_scenario_file(scenario_file_, s);
    for (const auto& p : problems) std::cerr << p << "\n";
    if (!problems.empty()) return 2;
  }
  auto bad_flag = [](const std::string& flag, const std::string& value) {
    std::cerr << "corral compare: " << flag
              << ": expected a duration such as 10s, 500ms or off, got '" << value << "'\n";
    return 2;
  };
  if (users_) s.users = users_;
  if (workers_) s.app.workers = workers_;
  if (!duration_.empty()) {
    auto d = parse_flag_duration(duration_);
    if (!d || d->count() == 0) return bad_flag("--duration", duration_);
    s.duration = *d;
  }
  if (!think_.empty()) {
    auto d = parse_flag_duration(think_);
    if (!d) return bad_flag("--think", think_);
    s.think = *d;
  }
  if (!kill_every_.empty()) {
    auto d = parse_flag_duration(kill_every_);
    if (!d) return bad_flag("--kill-every", kill_every_);
    s.faults.kill_every = *d;
  }
  auto optional_time = [](const std::optional<Millis>& d) {
    return d && d->count() ? d : std::nullopt;
  };
  if (!rolling_restart_at_.empty()) {
    auto d = parse_flag_duration(rolling_restart_at_);
    if (!d) return bad_flag("--rolling-restart-at", rolling_restart_at_);
    s.faults.rolling_restart_at = optional_time(d);
  }
  if (!redis_restart_at_.empty()) {
    auto d = parse_flag_duration(redis_restart_at_);
    if (!d) return bad_flag("--redis-restart-at", redis_restart_at_);
    s.faults.redis_restart_at = optional_time(d);
  }
  if (!modes_.empty()) {
    auto parsed = parse_modes(modes_);
    if (!parsed.error.empty()) {
      std::cerr << "corral compare: --modes: " << parsed.error << "\n";
      return 2;
    }
    s.modes = parsed.modes;
  }
  if (!out_.empty()) s.out = out_;
  if (scenario_name_ == "article") {
    // The article's `ab -c200 -t10`.
    if (duration_.empty()) s.duration = Millis{10000};
  }
  s.seed =
      seed_
          ? seed_
          : static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());

  ResolvedApp app;
  if (s.app.command.empty()) {
    const std::string demo = find_demo_app();
    if (demo.empty()) {
      std::cerr << "corral compare: the demo app (deploy/demo/server.js) was not found; set "
                   "CORRAL_DEMO_DIR or give your app with -c compare.yaml\n";
      return 2;
    }
    app.command = {"node", "server.js"};
    app.cwd = fs::path(demo).parent_path().string();
    app.demo = true;
    s.app.command = {"node", demo};
  } else {
    app.command = s.app.command;
    app.cwd = s.app.cwd.empty() ? fs::current_path().string() : s.app.cwd;
  }
  if (find_in_path(app.command[0]).empty()) {
    std::cerr << "corral compare: '" << app.command[0] << "' is not installed or not in PATH"
              << (app.command[0] == "node" ? " (the demo app needs Node.js 20)" : "") << "\n";
    return 2;
  }

  std::error_code ec;
  fs::create_directories(s.out, ec);
  if (ec) {
    std::cerr << "corral compare: cannot create " << s.out << ": " << ec.message() << "\n";
    return 2;
  }
  const fs::path out = fs::absolute(s.out);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  CompareReport report;
  report.scenario = s;
  report.scenario_name = scenario_name_;
  report.started_at = now_iso8601();
  report.cores = std::thread::hardware_concurrency();
  report.machine = cpu_model();

  ProgressLine progress;
  if (scenario_name_ == "article") {
    try {
      run_article(report, app, out.string(), progress, interrupted);
    } catch (const std::exception& e) {
      report.notes.push_back(std::string("stopped by an error: ") + e.what());
    }
  } else {
    std::string names;
    for (Mode m : s.modes) names += (names.empty() ? "" : ", ") + std::string(to_string(m));
    std::cerr << fmt::format(
        "corral compare: {} users, {:g} s per mode, {} workers, modes {}; faults: kill every {}, "
        "rolling restart at {}, redis restart at {}; reports in {}\n",
        s.users, double(s.duration.count()) / 1000.0, s.app.workers, names,
        s.faults.kill_every.count()
            ? fmt::format("{:g} s", double(s.faults.kill_every.count()) / 1000.0)
            : "never",
        s.faults.rolling_restart_at
            ? fmt::format("{:g} s", double(s.faults.rolling_restart_at->count()) / 1000.0)
            : "never",
        s.faults.redis_restart_at
            ? fmt::format("{:g} s", double(s.faults.redis_restart_at->count()) / 1000.0)
            : "never",
        out.string());
    std::uint64_t seed = s.seed;
    for (Mode m : s.modes) {
      if (interrupted.load()) break;
      // A mode that breaks (Redis would not start again, a file cannot be written) is reported
      // as such; what it started is stopped as the error unwinds.
      try {
        report.modes.push_back(run_mode(s, app, m, (out / std::string(to_string(m))).string(),
                                        seed++, progress, interrupted));
      } catch (const std::exception& e) {
        ModeResult failed;
        failed.mode = m;
        failed.label = std::string(to_string(m));
        failed.skipped = std::string("stopped by an error: ") + e.what();
        progress.done();
        progress.note(failed.label + ": " + failed.skipped);
        report.modes.push_back(std::move(failed));
      }
    }
  }
  if (interrupted.load())
    report.notes.push_back("interrupted: the figures cover the modes that ran");

  std::cout << "\n" << render_terminal_table(report);
  bool written = write_file(out / "report.json", render_report_json(report));
  written = write_file(out / "report.md", render_report_markdown(report)) && written;
  written = write_file(out / "report.html", render_report_html(report)) && written;
  std::cout << (written ? "reports: " : "could not write every report in ")
            << (out / "report.md").string() << ", report.json, report.html\n";

  if (interrupted.load()) return 130;
  bool any_ran = false;
  for (const auto& m : report.modes) any_ran = any_ran || m.skipped.empty();
  return any_ran && written ? 0 : 1;
}

}  // namespace corral::compare
