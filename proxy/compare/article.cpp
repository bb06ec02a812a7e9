#include "proxy/compare/article.hpp"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "proxy/compare/child_process.hpp"
#include "proxy/compare/load_generator.hpp"
#include "proxy/compare/mode_config.hpp"
#include "proxy/compare/redis_instance.hpp"

namespace corral::compare {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The article's app: the CPU-bound server (`for (i < 1e7)`) under an `ab -c200 -t10` load.
Scenario article_base(const Scenario& given, unsigned workers) {
  Scenario s = given;
  s.plain_target = "/";
  s.think = Millis{0};
  s.faults = FaultPlan{Millis{0}, std::nullopt, std::nullopt};
  s.app.workers = workers;
  if (!s.app.env.count("SPIN")) s.app.env["SPIN"] = "1e7";
  return s;
}

ModeResult on_corral(const Scenario& s, const ResolvedApp& app, const std::string& label,
                     const std::string& dir, std::uint64_t seed, ProgressLine& progress,
                     const std::atomic<bool>& interrupted) {
  ModeResult r;
  r.mode = Mode::round_robin;
  r.label = label;
  ModeConfigInputs in;
  in.mode = Mode::round_robin;
  in.app_command_yaml = yaml_flow_list(app.command);
  in.cwd = app.cwd;
  return run_on_corral(s, std::move(r), render_mode_config(s, in), dir, nullptr, seed, progress,
                       interrupted);
}

bool port_open(std::uint16_t port) {
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket sock(io);
    sock.connect({boost::asio::ip::address_v4::loopback(), port});
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// The same load against Node's own cluster module (deploy/demo/cluster.js).
ModeResult on_node_cluster(const Scenario& s, const ResolvedApp& app, const std::string& label,
                           const std::string& dir, std::uint64_t seed, ProgressLine& progress,
                           const std::atomic<bool>& interrupted) {
  ModeResult r;
  r.mode = Mode::round_robin;
  r.label = label;
  fs::create_directories(dir);
  const std::uint16_t port = free_loopback_port();
  std::vector<std::string> env{"PORT=" + std::to_string(port),
                               "WORKERS=" + std::to_string(s.app.workers)};
  for (const auto& [k, v] : s.app.env) env.push_back(k + "=" + v);
  std::unique_ptr<ChildProcess> cluster;
  try {
    cluster = std::make_unique<ChildProcess>(
        std::vector<std::string>{"node", (fs::path(app.cwd) / "cluster.js").string()},
        dir + "/cluster.log", app.cwd, env);
  } catch (const std::exception& e) {
    r.skipped = e.what();
    return r;
  }
  const auto until = Clock::now() + std::chrono::seconds(15);
  while (!port_open(port) && Clock::now() < until && cluster->running())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!port_open(port)) {
    r.skipped = "node cluster.js did not listen; see " + dir + "/cluster.log";
    return r;
  }
  const auto start = Clock::now();
  LoadGenerator load(s, port, start, seed);
  load.run();
  const double total_s = std::chrono::duration<double>(s.duration).count();
  while (Clock::now() < start + s.duration && !interrupted.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    progress.update(label, elapsed, total_s, load.requests() / elapsed, load.failed(), load.lost());
  }
  load.stop();
  r.load = load.finish();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  progress.done();
  cluster->stop(std::chrono::milliseconds(5000));
  return r;
}

const ModeResult* find(const CompareReport& r, const std::string& label) {
  for (const auto& m : r.modes)
    if (m.label == label && m.skipped.empty()) return &m;
  return nullptr;
}

}  // namespace

void run_article(CompareReport& report, const ResolvedApp& app, const std::string& out_dir,
                 ProgressLine& progress, const std::atomic<bool>& interrupted) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const bool node_cluster = app.demo && !find_in_path("node").empty();
  std::uint64_t seed = report.scenario.seed;
  const Scenario one = article_base(report.scenario, 1);
  const Scenario many = article_base(report.scenario, cores);
  Scenario crashing = many;
  crashing.app.env["CRASH_WITHIN"] = "10";
  Scenario rolling = many;
  rolling.faults.rolling_restart_at = Millis{report.scenario.duration.count() / 3};

  std::cerr << fmt::format(
      "corral compare --scenario article: the CPU-bound app (SPIN={}), {} connections without "
      "pause, {:g} s per experiment, {} core(s); reports in {}\n",
      many.app.env.at("SPIN"), many.users, double(many.duration.count()) / 1000.0, cores, out_dir);

  struct Step {
    std::string label;
    const Scenario* scenario;
    bool node;
  };
  const std::string n = std::to_string(cores);
  std::vector<Step> steps{{"corral, 1 worker", &one, false},
                          {"corral, " + n + " workers", &many, false}};
  if (node_cluster) steps.push_back({"node cluster, " + n + " workers", &many, true});
  steps.push_back({"corral, random crashes", &crashing, false});
  if (node_cluster) steps.push_back({"node cluster, random crashes", &crashing, true});
  steps.push_back({"corral, rolling restart", &rolling, false});

  for (std::size_t i = 0; i < steps.size() && !interrupted.load(); ++i) {
    const auto dir = (fs::path(out_dir) / fmt::format("article-{}", i + 1)).string();
    const auto& step = steps[i];
    report.modes.push_back(
        step.node
            ? on_node_cluster(*step.scenario, app, step.label, dir, seed++, progress, interrupted)
            : on_corral(*step.scenario, app, step.label, dir, seed++, progress, interrupted));
  }

  // The article's figures beside ours.
  const auto* single = find(report, "corral, 1 worker");
  const auto* cluster = find(report, "corral, " + n + " workers");
  const auto* node = find(report, "node cluster, " + n + " workers");
  if (single && cluster) {
    report.notes.push_back(fmt::format(
        "One process vs a cluster: the article saw 51 vs 181 req/s on 8 cores (x3.5); here corral "
        "{:.0f} vs {:.0f} req/s on {} core(s) (x{:.2f}){}.",
        single->requests_per_second(), cluster->requests_per_second(), cores,
        single->requests_per_second() > 0
            ? cluster->requests_per_second() / single->requests_per_second()
            : 0,
        node ? fmt::format(", Node's cluster module {:.0f} req/s", node->requests_per_second())
             : ""));
  }
  const auto* crash = find(report, "corral, random crashes");
  const auto* node_crash = find(report, "node cluster, random crashes");
  if (crash) {
    report.notes.push_back(fmt::format(
        "Random crashes (each worker exits within 10 s): the article saw 17 failed of about 1,800 "
        "requests; here corral {} failed of {} ({} retried on another worker){}.",
        crash->load.failed, crash->load.requests, crash->masked_failures,
        node_crash ? fmt::format(", Node's cluster module {} failed of {}", node_crash->load.failed,
                                 node_crash->load.requests)
                   : ""));
  }
  if (const auto* roll = find(report, "corral, rolling restart")) {
    report.notes.push_back(fmt::format(
        "Rolling restart: the article saw 0 failed requests; here corral {} failed of {}.",
        roll->load.failed, roll->load.requests));
  }
  if (!node_cluster)
    report.notes.push_back(app.demo ? "Node is not installed: Node's cluster module was not run."
                                    : "Node's cluster module runs only with the demo app.");
}

}  // namespace corral::compare
