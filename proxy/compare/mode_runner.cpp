#include "proxy/compare/mode_runner.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "proxy/compare/corral_instance.hpp"
#include "proxy/compare/load_generator.hpp"
#include "proxy/compare/metrics_scrape.hpp"
#include "proxy/compare/mode_config.hpp"
#include "proxy/compare/redis_instance.hpp"
#include "proxy/master/proc_stats.hpp"
#include "session/session_id.hpp"

namespace corral::compare {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::uint64_t as_u64(const json::value* v) {
  if (!v) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64()) return static_cast<std::uint64_t>(std::max<std::int64_t>(0, v->as_int64()));
  if (v->is_double()) return static_cast<std::uint64_t>(std::max(0.0, v->as_double()));
  return 0;
}

// Each slot's request count in a status.
std::vector<std::uint64_t> slot_requests(const json::object& status, std::size_t slots) {
  std::vector<std::uint64_t> out(slots, 0);
  if (const auto* a = status.if_contains("slots"); a && a->is_array()) {
    for (const auto& s : a->as_array()) {
      if (!s.is_object()) continue;
      const auto slot = as_u64(s.as_object().if_contains("slot"));
      if (slot < slots) out[slot] = as_u64(s.as_object().if_contains("requests"));
    }
  }
  return out;
}

pid_t proxy_pid(const json::object& status) {
  if (const auto* p = status.if_contains("proxy"); p && p->is_object())
    return static_cast<pid_t>(as_u64(p->as_object().if_contains("pid")));
  return 0;
}

// A random ready slot's (slot, pid), or nothing.
std::optional<std::pair<std::uint64_t, pid_t>> pick_victim(const json::object& status,
                                                           std::mt19937_64& rng) {
  std::vector<std::pair<std::uint64_t, pid_t>> ready;
  if (const auto* a = status.if_contains("slots"); a && a->is_array()) {
    for (const auto& s : a->as_array()) {
      if (!s.is_object()) continue;
      const auto& o = s.as_object();
      const auto* state = o.if_contains("state");
      const auto pid = static_cast<pid_t>(as_u64(o.if_contains("pid")));
      if (pid > 0 && state && state->is_string() && state->as_string() == "ready")
        ready.emplace_back(as_u64(o.if_contains("slot")), pid);
    }
  }
  if (ready.empty()) return std::nullopt;
  return ready[std::uniform_int_distribution<std::size_t>(0, ready.size() - 1)(rng)];
}

std::string random_key() {
  // Two ids from the CSPRNG: 44 characters of base64url, plenty for HMAC-SHA256.
  std::string key;
  for (int i = 0; i < 2; ++i) {
    auto id = session::generate_session_id();
    key += id ? std::string(id->view()) : std::string("compare-fallback-key-");
  }
  return key;
}

}  // namespace

ModeResult run_mode(const Scenario& scenario, const ResolvedApp& app, Mode mode,
                    const std::string& dir, std::uint64_t seed, ProgressLine& progress,
                    const std::atomic<bool>& interrupted) {
  ModeResult result;
  result.mode = mode;
  result.label = std::string(to_string(mode));
  std::filesystem::create_directories(dir);

  std::unique_ptr<RedisInstance> redis;
  if (mode == Mode::shared) {
    if (RedisInstance::binary().empty()) {
      result.skipped =
          "redis-server is not installed, so shared mode did not run "
          "(deploy/scripts/install-deps.sh test installs it)";
      progress.note(result.label + ": " + result.skipped);
      return result;
    }
    try {
      redis = std::make_unique<RedisInstance>(dir + "/redis.log");
    } catch (const std::exception& e) {
      result.skipped = e.what();
      progress.note(result.label + ": " + result.skipped);
      return result;
    }
  }

  ModeConfigInputs in;
  in.mode = mode;
  in.app_command_yaml = yaml_flow_list(app.command);
  in.cwd = app.cwd;
  if (redis) in.redis_url = redis->url();
  if (mode == Mode::sticky_insert) in.insert_key = random_key();

  return run_on_corral(scenario, std::move(result), render_mode_config(scenario, in), dir,
                       redis.get(), seed, progress, interrupted);
}

ModeResult run_on_corral(const Scenario& scenario, ModeResult result, const std::string& yaml,
                         const std::string& dir, RedisInstance* redis, std::uint64_t seed,
                         ProgressLine& progress, const std::atomic<bool>& interrupted) {
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(seed);
  std::unique_ptr<CorralInstance> corral;
  try {
    corral = std::make_unique<CorralInstance>(
        dir, yaml, scenario.app.ready_timeout + std::chrono::seconds(10));
  } catch (const std::exception& e) {
    result.skipped = e.what();
    progress.note(result.label + ": " + result.skipped);
    return result;
  }
  const Mode mode = result.mode;

  const std::size_t slots = scenario.app.workers;
  auto status = corral->status().value_or(json::object{});
  std::vector<std::uint64_t> baseline = slot_requests(status, slots);
  std::vector<std::uint64_t> previous = baseline;
  // Appends each worker's requests since the last sample to the timeline; without a status, an
  // empty second when `empty_when_unknown`, nothing otherwise.
  auto sample_workers = [&](bool empty_when_unknown) {
    auto s = corral->status();
    if (!s) {
      if (empty_when_unknown) result.worker_timeline.emplace_back(slots, 0);
      return;
    }
    auto now_counts = slot_requests(*s, slots);
    std::vector<std::uint64_t> delta(slots, 0);
    for (std::size_t i = 0; i < slots; ++i)
      delta[i] = now_counts[i] >= previous[i] ? now_counts[i] - previous[i] : 0;
    result.worker_timeline.push_back(std::move(delta));
    previous = std::move(now_counts);
  };
  const pid_t proxy = proxy_pid(status);
  const auto cpu_before = master::read_process_usage(proxy).value_or(master::ProcessUsage{});

  const auto start = Clock::now();
  LoadGenerator load(scenario, corral->port(), start, seed);
  load.run();

  const auto faults = plan_faults(scenario.faults, scenario.duration, redis != nullptr);
  std::size_t next_fault = 0;
  std::future<std::string> rolling;  // a reload runs beside the sampling
  double rolling_began = 0;
  auto next_sample = start + std::chrono::seconds(1);
  const double total_s = std::chrono::duration<double>(scenario.duration).count();

  while (Clock::now() < start + scenario.duration && !interrupted.load()) {
    const double now_s = std::chrono::duration<double>(Clock::now() - start).count();
    while (next_fault < faults.size() && Clock::now() >= start + faults[next_fault].at) {
      const Fault& f = faults[next_fault++];
      FaultEvent e{now_s, f.kind, {}};
      if (f.kind == FaultKind::kill_worker) {
        auto s = corral->status();
        auto victim = s ? pick_victim(*s, rng) : std::nullopt;
        if (victim) {
          ::kill(victim->second, SIGKILL);
          e.detail = fmt::format("slot {} (pid {})", victim->first, victim->second);
        } else {
          e.detail = "no ready worker to kill";
        }
      } else if (f.kind == FaultKind::rolling_restart) {
        if (!rolling.valid()) {
          rolling = std::async(std::launch::async, [&corral] { return corral->reload(); });
          rolling_began = now_s;
          e.detail = "corral reload";
        } else {
          e.detail = "skipped: a rolling restart is still running";
        }
      } else if (f.kind == FaultKind::redis_restart && redis) {
        redis->restart();
        e.detail = fmt::format("redis-server on port {} started again, empty", redis->port());
      }
      progress.note(fmt::format("{:.1f}s {}: {}", e.at_s, to_string(e.kind), e.detail));
      result.faults.push_back(std::move(e));
    }
    if (Clock::now() >= next_sample) {
      next_sample += std::chrono::seconds(1);
      sample_workers(/*empty_when_unknown=*/true);
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      progress.update(result.label, elapsed, total_s, elapsed > 0 ? load.requests() / elapsed : 0,
                      load.failed(), load.lost());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  load.stop();
  result.load = load.finish();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // The last, partial second of the per-worker timeline.
  sample_workers(/*empty_when_unknown=*/false);
  progress.update(result.label, result.seconds, total_s, result.requests_per_second(),
                  result.load.failed, result.load.lost);
  progress.done();
  if (rolling.valid()) {
    const std::string said = rolling.get();
    progress.note(fmt::format("rolling restart begun at {:.1f}s: {}", rolling_began, said));
    for (auto& f : result.faults)
      if (f.kind == FaultKind::rolling_restart && f.detail == "corral reload")
        f.detail = "corral reload: " + said;
  }

  const auto cpu_after = master::read_process_usage(proxy).value_or(cpu_before);
  const double ticks = double(cpu_after.cpu_ticks - cpu_before.cpu_ticks);
  result.proxy_cpu_percent =
      result.seconds > 0 ? 100.0 * ticks / double(::sysconf(_SC_CLK_TCK)) / result.seconds : 0;

  if (auto s = corral->status()) {
    auto final_counts = slot_requests(*s, slots);
    result.worker_requests.assign(slots, 0);
    for (std::size_t i = 0; i < slots; ++i)
      result.worker_requests[i] =
          final_counts[i] >= baseline[i] ? final_counts[i] - baseline[i] : 0;
  }
  const std::string metrics = corral->metrics();
  const double proxied = sum_metric(metrics, "corral_requests_total");
  if (proxied > 0)
    result.redis_per_request = sum_metric(metrics, "corral_redis_commands_total") / proxied;
  if (mode == Mode::sticky_learn || mode == Mode::sticky_insert)
    result.rehomed = static_cast<std::uint64_t>(sum_metric(metrics, "corral_sticky_rehomed_total"));
  result.masked_failures =
      static_cast<std::uint64_t>(sum_metric(metrics, "corral_masked_failures_total"));

  corral->stop();
  return result;
}

}  // namespace corral::compare
