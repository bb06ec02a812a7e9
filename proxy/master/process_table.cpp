#include "proxy/master/process_table.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace corral::master {

std::string_view to_string(WorkerState s) {
  switch (s) {
    case WorkerState::starting:
      return "starting";
    case WorkerState::ready:
      return "ready";
    case WorkerState::stopping:
      return "stopping";
  }
  return "starting";
}

ProcessTable::ProcessTable(std::uint32_t slots) { resize(slots); }

const WorkerProcess* ProcessTable::find(pid_t pid) const {
  auto it = std::find_if(workers_.begin(), workers_.end(),
                         [pid](const WorkerProcess& w) { return w.pid == pid; });
  return it == workers_.end() ? nullptr : &*it;
}

WorkerProcess* ProcessTable::find_mutable(pid_t pid) {
  return const_cast<WorkerProcess*>(std::as_const(*this).find(pid));
}

const WorkerProcess* ProcessTable::routed(std::uint32_t slot) const {
  pid_t pid = slots_.at(slot).pid;
  return pid == 0 ? nullptr : find(pid);
}

std::uint64_t ProcessTable::next_generation(std::uint32_t slot) const {
  return slots_.at(slot).last_generation + 1;
}

const WorkerProcess& ProcessTable::add(std::uint32_t slot, pid_t pid, std::uint16_t port,
                                       Clock::time_point now) {
  SlotRecord& record = slots_.at(slot);
  if (record.last_generation > 0) ++record.restarts;
  record.last_generation = next_generation(slot);
  workers_.push_back(
      WorkerProcess{pid, slot, record.last_generation, port, WorkerState::starting, now});
  return workers_.back();
}

void ProcessTable::mark_ready(pid_t pid) {
  if (WorkerProcess* w = find_mutable(pid); w && w->state == WorkerState::starting) {
    w->state = WorkerState::ready;
  }
}

void ProcessTable::mark_stopping(pid_t pid) {
  if (WorkerProcess* w = find_mutable(pid)) w->state = WorkerState::stopping;
}

void ProcessTable::route_to(pid_t pid) {
  WorkerProcess* w = find_mutable(pid);
  if (!w) throw std::logic_error("route_to: no such worker");
  SlotRecord& record = slots_.at(w->slot);
  record.state = proxy::SlotState::ready;
  record.pid = pid;
  record.generation = w->generation;
  record.port = w->port;
  record.started_at = w->started_at;
  record.settled = true;
}

void ProcessTable::set_draining(std::uint32_t slot) {
  SlotRecord& record = slots_.at(slot);
  if (record.pid != 0) record.state = proxy::SlotState::draining;
}

void ProcessTable::set_stopped(std::uint32_t slot) {
  SlotRecord& record = slots_.at(slot);
  record.pid = 0;
  if (record.state != proxy::SlotState::errored) record.state = proxy::SlotState::stopped;
}

void ProcessTable::set_errored(std::uint32_t slot) {
  SlotRecord& record = slots_.at(slot);
  record.pid = 0;
  record.state = proxy::SlotState::errored;
  record.settled = true;
}

void ProcessTable::set_crashes_in_a_row(std::uint32_t slot, unsigned count) {
  slots_.at(slot).crashes_in_a_row = count;
}

std::optional<WorkerExit> ProcessTable::remove(pid_t pid, int wait_status, Clock::time_point now) {
  auto it = std::find_if(workers_.begin(), workers_.end(),
                         [pid](const WorkerProcess& w) { return w.pid == pid; });
  if (it == workers_.end()) return std::nullopt;
  WorkerExit exit;
  exit.worker = *it;
  exit.planned = it->state == WorkerState::stopping;
  exit.uptime = now - it->started_at;
  workers_.erase(it);
  SlotRecord& record = slots_.at(exit.worker.slot);
  record.last_exit = wait_status;
  if (record.pid == pid) {
    exit.routed = true;
    set_stopped(exit.worker.slot);
  }
  return exit;
}

void ProcessTable::resize(std::uint32_t count) {
  while (slots_.size() > count) {
    std::uint32_t last = static_cast<std::uint32_t>(slots_.size() - 1);
    bool busy = std::any_of(workers_.begin(), workers_.end(),
                            [last](const WorkerProcess& w) { return w.slot == last; });
    if (busy) throw std::logic_error("resize: a dropped slot still has a worker");
    slots_.pop_back();
  }
  while (slots_.size() < count) {
    SlotRecord record;
    record.slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(record);
  }
}

std::vector<proxy::SlotMembership> ProcessTable::membership() const {
  std::vector<proxy::SlotMembership> out;
  out.reserve(slots_.size());
  for (const SlotRecord& record : slots_) {
    out.push_back(proxy::SlotMembership{record.slot, loopback_address(record.port), record.state,
                                        record.generation});
  }
  return out;
}

bool ProcessTable::all_settled() const {
  return std::all_of(slots_.begin(), slots_.end(), [](const SlotRecord& r) { return r.settled; });
}

std::string loopback_address(std::uint16_t port) {
  return port == 0 ? std::string() : "127.0.0.1:" + std::to_string(port);
}

std::string describe_wait_status(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    const char* abbrev = sigabbrev_np(sig);
    return "killed by " + (abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig));
  }
  return "wait status " + std::to_string(wait_status);
}

}  // namespace corral::master
