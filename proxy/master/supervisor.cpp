#include "proxy/master/supervisor.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <cerrno>

#include "proxy/master/control_protocol.hpp"
#include "proxy/master/output_relay.hpp"
#include "proxy/master/readiness.hpp"
#include "proxy/master/restart_policy.hpp"
#include "proxy/master/worker_launcher.hpp"

namespace corral::master {

namespace json = boost::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

// Signals a worker's process group, or the worker alone if it left its group.
void signal_worker(pid_t pid, int signal) {
  if (::kill(-pid, signal) != 0 && errno == ESRCH) ::kill(pid, signal);
}

long long ms(Clock::duration d) { return duration_cast<milliseconds>(d).count(); }

}  // namespace

Supervisor::Supervisor(asio::io_context& ioc, StateChanged& changed, WorkerSpec spec,
                       std::function<void()> membership_changed)
    : ioc_(ioc),
      changed_(changed),
      spec_(std::make_shared<const WorkerSpec>(std::move(spec))),
      membership_changed_(std::move(membership_changed)),
      random_(std::random_device{}()) {
  table_.resize(spec_->count);
  runtime_.resize(spec_->count);
  for (auto& rt : runtime_) rt.timer = std::make_unique<asio::steady_timer>(ioc_);
}

Supervisor::~Supervisor() = default;

void Supervisor::set_spec(WorkerSpec spec) {
  spec_ = std::make_shared<const WorkerSpec>(std::move(spec));
}

void Supervisor::start() {
  for (std::uint32_t slot = 0; slot < runtime_.size(); ++slot) schedule_restart(slot, {});
}

void Supervisor::push() { membership_changed_(); }

std::string Supervisor::label(const WorkerProcess& w) const {
  return "slot " + std::to_string(w.slot) + " pid " + std::to_string(w.pid);
}

double Supervisor::random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

void Supervisor::schedule_restart(std::uint32_t slot, config::Duration delay) {
  if (stopping_ || slot >= runtime_.size() || runtime_[slot].restart_scheduled) return;
  runtime_[slot].restart_scheduled = true;
  asio::co_spawn(ioc_, keep_running(slot, delay), asio::detached);
}

awaitable<void> Supervisor::keep_running(std::uint32_t slot, config::Duration delay) {
  for (;;) {
    if (delay > config::Duration::zero()) {
      runtime_[slot].timer->expires_after(delay);
      co_await runtime_[slot].timer->async_wait(nothrow);
    }
    if (slot >= runtime_.size()) co_return;
    SlotRuntime& rt = runtime_[slot];
    rt.restart_scheduled = false;
    if (stopping_ || rt.held || table_.slot(slot).pid != 0 || rt.starts_in_progress > 0) co_return;
    std::shared_ptr<const WorkerSpec> spec = spec_;
    Started started = co_await start_worker(slot, *spec, spec->fixed_port(slot));
    if (started.pid != 0) {
      route_to(started.pid);
      co_return;
    }
    if (stopping_ || slot >= runtime_.size()) co_return;
    spdlog::warn("slot {}: {}", slot, started.error);
    delay = count_crash(slot, Clock::duration::zero(), false);
    runtime_[slot].restart_scheduled = true;
  }
}

config::Duration Supervisor::count_crash(std::uint32_t slot, Clock::duration uptime,
                                         bool became_ready) {
  const config::WorkerRestart& policy = spec_->restart;
  RestartDecision d = decide_restart(policy, table_.slot(slot).crashes_in_a_row,
                                     duration_cast<config::Duration>(uptime), became_ready,
                                     random01());
  table_.set_crashes_in_a_row(slot, d.crashes_in_a_row);
  if (d.errored) {
    table_.set_errored(slot);
    if (d.crashes_in_a_row > policy.crash_loop) {
      // Errored already: said once as an error, when it became so.
      spdlog::info("slot {}: still errored ({} failures in a row); trying again in {} ms", slot,
                   d.crashes_in_a_row, d.delay.count());
    } else {
      spdlog::error(
          "slot {}: errored: {} failures in a row, each before it became ready or within {} ms "
          "of its start; trying again every {} ms",
          slot, d.crashes_in_a_row, policy.min_uptime.count(), d.delay.count());
    }
    push();
    changed_.notify();
  } else {
    spdlog::info("slot {}: starting again in {} ms ({} failure(s) in a row)", slot, d.delay.count(),
                 d.crashes_in_a_row);
  }
  return d.delay;
}

awaitable<Supervisor::Started> Supervisor::start_worker(std::uint32_t slot, WorkerSpec spec,
                                                        std::uint16_t port) {
  if (stopping_) co_return Started{0, "corral is stopping"};
  ++runtime_.at(slot).starts_in_progress;
  struct Done {
    Supervisor& s;
    std::uint32_t slot;
    ~Done() {
      if (slot < s.runtime_.size()) --s.runtime_[slot].starts_in_progress;
    }
  } done{*this, slot};

  if (port == 0) port = pick_free_port();
  const std::uint64_t generation = table_.next_generation(slot);
  LaunchResult launched = launch_worker(spec, slot, generation, port);
  if (!launched.worker) co_return Started{0, launched.error};
  const pid_t pid = launched.worker->pid;
  const WorkerProcess& w = table_.add(slot, pid, port, Clock::now());
  const std::string name = label(w);
  spdlog::info("slot {}: started worker pid {} (generation {}) on port {}", slot, pid, generation,
               port);
  WorkerLink& link = links_[pid];
  link.ready_when = spec.ready.when;
  link.channel = std::make_shared<IpcChannel>(ioc_, launched.worker->channel_fd, name);
  link.channel->start([this, pid](const json::value& message) { on_message(pid, message); });
  relay_output(ioc_, launched.worker->stdout_fd, name, false);
  relay_output(ioc_, launched.worker->stderr_fd, name, true);

  const auto started_at = Clock::now();
  const auto deadline = started_at + spec.ready.timeout;
  if (spec.ready.when == config::ReadyWhen::port) {
    asio::co_spawn(ioc_, probe_port(pid, port, deadline), asio::detached);
  }
  co_await changed_.wait_until(
      [this, pid] {
        const WorkerProcess* p = table_.find(pid);
        return stopping_ || !p || p->state != WorkerState::starting;
      },
      deadline);

  const WorkerProcess* now = table_.find(pid);
  if (now && now->state == WorkerState::ready && !stopping_) {
    spdlog::info("slot {}: worker pid {} (generation {}) is up on {} after {} ms", slot, pid,
                 generation, loopback_address(port), ms(Clock::now() - started_at));
    co_return Started{pid, ""};
  }
  std::string error;
  if (!now) {
    const auto& last_exit = table_.slot(slot).last_exit;
    error = "worker pid " + std::to_string(pid) + " ended (" +
            (last_exit ? describe_wait_status(*last_exit) : std::string("unknown status")) +
            ") before it was up";
  } else if (stopping_) {
    error = "corral is stopping";
  } else {
    error = "worker pid " + std::to_string(pid) + " was not up within " +
            std::to_string(spec.ready.timeout.count()) + " ms (ready.when: " +
            (spec.ready.when == config::ReadyWhen::port ? "port" : "message") + ")";
  }
  if (now) co_await stop_worker(pid, SIGKILL, std::chrono::seconds(2));
  co_return Started{0, error};
}

awaitable<void> Supervisor::probe_port(pid_t pid, std::uint16_t port, Clock::time_point deadline) {
  bool open = co_await wait_port_open(ioc_, port, deadline, [this, pid] {
    const WorkerProcess* w = table_.find(pid);
    return !w || w->state != WorkerState::starting;
  });
  const WorkerProcess* w = table_.find(pid);
  if (open && w && w->state == WorkerState::starting) {
    table_.mark_ready(pid);
    changed_.notify();
  }
}

bool Supervisor::route_to(pid_t pid) {
  const WorkerProcess* w = table_.find(pid);
  if (!w || w->state != WorkerState::ready) return false;
  const std::uint32_t slot = w->slot;
  table_.route_to(pid);
  spdlog::info("slot {}: routing to worker pid {} (generation {})", slot, pid, w->generation);
  push();
  changed_.notify();
  return true;
}

void Supervisor::set_draining(std::uint32_t slot) {
  table_.set_draining(slot);
  push();
}

awaitable<void> Supervisor::stop_worker(pid_t pid, int signal, config::Duration timeout) {
  if (!table_.find(pid)) co_return;
  table_.mark_stopping(pid);
  changed_.notify();
  signal_worker(pid, signal);
  auto gone = [this, pid] { return table_.find(pid) == nullptr; };
  if (co_await changed_.wait_until(gone, Clock::now() + timeout)) co_return;
  if (signal != SIGKILL) {
    spdlog::warn("worker pid {} did not stop within {} ms; sending SIGKILL", pid, timeout.count());
  }
  signal_worker(pid, SIGKILL);
  co_await changed_.wait_until(gone, Clock::now() + std::chrono::seconds(5));
}

awaitable<void> Supervisor::stop_all() {
  stopping_ = true;
  for (auto& rt : runtime_) rt.timer->cancel();
  changed_.notify();
  const auto& stop = spec_->stop;
  std::vector<pid_t> pids;
  for (const auto& w : table_.workers()) pids.push_back(w.pid);
  if (!pids.empty()) {
    spdlog::info("stopping {} worker(s) with {} (SIGKILL after {} ms)", pids.size(), stop.signal,
                 stop.timeout.count());
  }
  for (pid_t pid : pids) {
    table_.mark_stopping(pid);
    signal_worker(pid, stop.signal_number);
  }
  auto none_left = [this] { return table_.workers().empty(); };
  if (co_await changed_.wait_until(none_left, Clock::now() + stop.timeout)) co_return;
  for (const auto& w : table_.workers()) {
    spdlog::warn("worker pid {} did not stop within {} ms; sending SIGKILL", w.pid,
                 stop.timeout.count());
    signal_worker(w.pid, SIGKILL);
  }
  co_await changed_.wait_until(none_left, Clock::now() + std::chrono::seconds(5));
}

void Supervisor::hold(std::uint32_t slot) { runtime_.at(slot).held = true; }

void Supervisor::release(std::uint32_t slot) {
  if (slot >= runtime_.size()) return;
  runtime_[slot].held = false;
  if (table_.slot(slot).pid == 0 && runtime_[slot].starts_in_progress == 0) {
    schedule_restart(slot, {});
  }
}

bool Supervisor::restart_now(std::uint32_t slot) {
  if (slot >= runtime_.size() || table_.slot(slot).pid != 0) return false;
  table_.set_crashes_in_a_row(slot, 0);
  if (runtime_[slot].restart_scheduled) {
    runtime_[slot].timer->cancel();
  } else if (runtime_[slot].starts_in_progress == 0) {
    schedule_restart(slot, {});
  }
  return true;
}

void Supervisor::resize(std::uint32_t count) {
  for (const auto& w : table_.workers()) {
    if (w.slot >= count) {
      spdlog::error("slot {} still has worker pid {}: keeping {} slot(s)", w.slot, w.pid,
                    runtime_.size());
      return;
    }
  }
  const std::size_t old = runtime_.size();
  for (std::size_t slot = count; slot < old; ++slot) runtime_[slot].timer->cancel();
  table_.resize(count);
  runtime_.resize(count);
  for (std::size_t slot = old; slot < count; ++slot) {
    runtime_[slot].timer = std::make_unique<asio::steady_timer>(ioc_);
    schedule_restart(static_cast<std::uint32_t>(slot), {});
  }
  push();
}

bool Supervisor::on_exit(pid_t pid, int wait_status) {
  auto exit = table_.remove(pid, wait_status, Clock::now());
  if (!exit) return false;
  if (auto link = links_.find(pid); link != links_.end()) {
    link->second.channel->close();
    links_.erase(link);
  }
  // Whatever the worker started in its group goes with it.
  ::kill(-pid, SIGKILL);
  changed_.notify();
  const WorkerProcess& w = exit->worker;
  const std::string status = describe_wait_status(wait_status);
  if (exit->planned) {
    spdlog::info("slot {}: worker pid {} (generation {}) stopped ({})", w.slot, pid, w.generation,
                 status);
    if (exit->routed) push();
    return true;
  }
  spdlog::warn("slot {}: worker pid {} (generation {}) exited unexpectedly ({}) after {} ms",
               w.slot, pid, w.generation, status, ms(exit->uptime));
  if (!exit->routed) return true;  // a worker still starting: its start_worker() reports it
  push();                          // out of the proxy's selection at once
  if (stopping_ || runtime_.at(w.slot).held) return true;
  schedule_restart(w.slot, count_crash(w.slot, exit->uptime, /*became_ready=*/true));
  return true;
}

void Supervisor::on_message(pid_t pid, const json::value& message) {
  const WorkerProcess* w = table_.find(pid);
  auto link = links_.find(pid);
  if (!w || link == links_.end()) return;
  if (is_ready_message(message)) {
    if (link->second.ready_when == config::ReadyWhen::message &&
        w->state == WorkerState::starting) {
      table_.mark_ready(pid);
      changed_.notify();
    }
    return;
  }
  if (message.is_object()) {
    const json::object& o = message.as_object();
    const json::value* corral = o.if_contains("corral");
    if (corral && corral->is_string() && corral->as_string() == "broadcast") {
      const json::value* data = o.if_contains("data");
      Delivery d = broadcast(data ? *data : json::value(nullptr), pid);
      spdlog::debug("[{}] broadcast relayed to {} worker(s), {} dropped", label(*w), d.delivered,
                    d.dropped);
      return;
    }
    // Node's own channel housekeeping (NODE_HANDLE_ACK and the like).
    const json::value* cmd = o.if_contains("cmd");
    if (cmd && cmd->is_string() && cmd->as_string().starts_with("NODE_")) return;
  }
  spdlog::info("[{}] message: {}", label(*w), json::serialize(message));
}

Supervisor::Delivery Supervisor::broadcast(const json::value& message, pid_t except) {
  Delivery d;
  for (const auto& w : table_.workers()) {
    if (w.pid == except || w.state != WorkerState::ready) continue;
    auto link = links_.find(w.pid);
    if (link == links_.end()) continue;
    if (link->second.channel->send(message)) {
      ++d.delivered;
    } else {
      ++d.dropped;
    }
  }
  return d;
}

std::string Supervisor::send(std::uint32_t slot, const json::value& message) {
  if (slot >= table_.slots().size()) {
    return unknown_slot_message(slot, table_.slots().size());
  }
  const WorkerProcess* w = table_.routed(slot);
  if (!w) {
    return "slot " + std::to_string(slot) + " has no running worker (" +
           std::string(proxy::to_string(table_.slot(slot).state)) + ")";
  }
  auto link = links_.find(w->pid);
  if (link == links_.end() || !link->second.channel->send(message)) {
    return "slot " + std::to_string(slot) + ": the message was dropped (the worker's channel is " +
           "full or closed)";
  }
  return {};
}

std::uint64_t Supervisor::dropped_messages(pid_t pid) const {
  auto link = links_.find(pid);
  return link == links_.end() ? 0 : link->second.channel->dropped();
}

}  // namespace corral::master
