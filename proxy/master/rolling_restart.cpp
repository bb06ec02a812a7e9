#include "proxy/master/rolling_restart.hpp"

#include <spdlog/spdlog.h>

namespace corral::master {

RollingRestart::RollingRestart(Supervisor& supervisor, WorkerSpec spec, WorkerSpec previous,
                               RolloutHooks hooks, std::string requested_by)
    : supervisor_(supervisor),
      spec_(std::move(spec)),
      previous_(std::move(previous)),
      hooks_(std::move(hooks)),
      requested_by_(std::move(requested_by)),
      started_at_(Clock::now()) {}

std::string RollingRestart::describe() const {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_at_);
  std::string text = "rolling restart requested by " + requested_by_ + " " +
                     std::to_string(seconds.count()) + " s ago";
  if (at_ < slots_.size()) {
    text += ", at slot " + std::to_string(slots_[at_]) + " (" + std::to_string(at_ + 1) + " of " +
            std::to_string(slots_.size()) + ")";
  }
  return text;
}

void RollingRestart::progress(const std::string& text) {
  spdlog::info("rolling restart: {}", text);
  if (hooks_.progress) hooks_.progress(text);
}

RollingRestart::Result RollingRestart::abort(std::string reason) {
  supervisor_.set_spec(previous_);
  spdlog::error("rolling restart aborted: {}", reason);
  return Result{false, "rolling restart aborted: " + reason};
}

awaitable<RollingRestart::Result> RollingRestart::run(std::vector<std::uint32_t> slots) {
  slots_ = std::move(slots);
  supervisor_.set_spec(spec_);
  for (at_ = 0; at_ < slots_.size(); ++at_) {
    if (supervisor_.stopping()) co_return abort("corral is stopping");
    const std::uint32_t slot = slots_[at_];
    if (slot >= supervisor_.table().slots().size()) continue;
    Result step;
    if (spec_.port_base == 0) {
      step = co_await replace(slot);
    } else {
      step = co_await replace_on_fixed_port(slot);
    }
    if (!step.ok) co_return step;
  }
  std::string message =
      "rolling restart done: " + std::to_string(replaced_) + " worker(s) replaced";
  if (skipped_ > 0) {
    message += ", " + std::to_string(skipped_) +
               " slot(s) without a running worker will start with the new command";
  }
  spdlog::info("{}", message);
  co_return Result{true, message};
}

awaitable<void> RollingRestart::drain(std::uint32_t slot, std::uint64_t generation) {
  supervisor_.set_draining(slot);
  const auto deadline = Clock::now() + spec_.stop.timeout;
  if (!co_await hooks_.wait_drained(slot, generation, deadline)) {
    progress("slot " + std::to_string(slot) + ": requests still in flight after " +
             std::to_string(spec_.stop.timeout.count()) + " ms (stop.timeout); going on");
  }
}

awaitable<RollingRestart::Result> RollingRestart::replace(std::uint32_t slot) {
  const std::string name = "slot " + std::to_string(slot);
  const WorkerProcess* old = supervisor_.table().routed(slot);
  if (!old) {
    progress(name + ": no running worker to replace");
    ++skipped_;
    co_return Result{true, ""};
  }
  const pid_t old_pid = old->pid;
  const std::uint64_t old_generation = old->generation;
  supervisor_.hold(slot);
  progress(name + ": starting a replacement for pid " + std::to_string(old_pid));
  Supervisor::Started started = co_await supervisor_.start_worker(slot, spec_, 0);
  if (started.pid == 0) {
    supervisor_.release(slot);
    co_return abort(name + ": the replacement " + started.error +
                    "; it was stopped and the old workers keep serving");
  }
  const std::string new_name = "pid " + std::to_string(started.pid);
  if (supervisor_.table().routed(slot)) {
    progress(name + ": replacement " + new_name + " is up; draining pid " +
             std::to_string(old_pid));
    co_await drain(slot, old_generation);
  }
  if (!supervisor_.route_to(started.pid)) {
    if (supervisor_.table().find(old_pid)) supervisor_.route_to(old_pid);
    supervisor_.release(slot);
    co_return abort(name + ": the replacement " + new_name + " ended before the switch");
  }
  co_await supervisor_.stop_worker(old_pid, spec_.stop.signal_number, spec_.stop.timeout);
  supervisor_.release(slot);
  ++replaced_;
  progress(name + ": " + new_name + " (generation " +
           std::to_string(supervisor_.table().slot(slot).generation) + ") replaced pid " +
           std::to_string(old_pid));
  co_return Result{true, ""};
}

awaitable<RollingRestart::Result> RollingRestart::replace_on_fixed_port(std::uint32_t slot) {
  const std::string name = "slot " + std::to_string(slot);
  const WorkerProcess* old = supervisor_.table().routed(slot);
  if (!old) {
    progress(name + ": no running worker to replace");
    ++skipped_;
    co_return Result{true, ""};
  }
  const pid_t old_pid = old->pid;
  supervisor_.hold(slot);
  progress(name + ": draining pid " + std::to_string(old_pid) + " (port " +
           std::to_string(old->port) + " is fixed, so it goes first)");
  co_await drain(slot, old->generation);
  co_await supervisor_.stop_worker(old_pid, spec_.stop.signal_number, spec_.stop.timeout);
  Supervisor::Started started =
      co_await supervisor_.start_worker(slot, spec_, spec_.fixed_port(slot));
  if (started.pid == 0 || !supervisor_.route_to(started.pid)) {
    Result result = abort(name + ": the replacement " +
                          (started.pid == 0 ? started.error : "ended before the switch") +
                          "; the slot starts again with the previous command");
    supervisor_.release(slot);
    co_return result;
  }
  supervisor_.release(slot);
  ++replaced_;
  progress(name + ": pid " + std::to_string(started.pid) + " replaced pid " +
           std::to_string(old_pid));
  co_return Result{true, ""};
}

awaitable<void> RollingRestart::remove_slots(std::uint32_t count) {
  const auto& table = supervisor_.table();
  for (std::uint32_t slot = static_cast<std::uint32_t>(table.slots().size()); slot-- > count;) {
    supervisor_.hold(slot);
    if (const WorkerProcess* w = table.routed(slot)) {
      progress("slot " + std::to_string(slot) + ": draining pid " + std::to_string(w->pid) +
               " (workers.count is now " + std::to_string(count) + ")");
      co_await drain(slot, w->generation);
    }
    // A start already under way when the slot was held may still add a worker: stop until none.
    for (int round = 0; round < 3; ++round) {
      std::vector<pid_t> pids;
      for (const auto& w : table.workers()) {
        if (w.slot == slot) pids.push_back(w.pid);
      }
      if (pids.empty()) break;
      for (pid_t pid : pids) {
        co_await supervisor_.stop_worker(pid, spec_.stop.signal_number, spec_.stop.timeout);
      }
    }
  }
  supervisor_.resize(count);
}

}  // namespace corral::master
