#pragma once
// The master's flat table of worker slots and worker processes (after nginx's ngx_processes):
// who runs where, in which generation, since when, and how each one ended. Pure bookkeeping:
// no I/O, the caller passes the time.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proxy/membership.hpp"

namespace corral::master {

using Clock = std::chrono::steady_clock;

// Where a worker process is in its life.
enum class WorkerState {
  starting,  // launched, not ready yet
  ready,     // accepting requests (the slot may or may not route to it yet)
  stopping,  // asked to stop: it will not be started again when it exits
};

std::string_view to_string(WorkerState s);

// One live worker process.
struct WorkerProcess {
  pid_t pid = 0;
  std::uint32_t slot = 0;
  std::uint64_t generation = 0;
  std::uint16_t port = 0;
  WorkerState state = WorkerState::starting;
  Clock::time_point started_at{};
};

// One slot: the worker the proxy routes to, and the slot's history.
struct SlotRecord {
  std::uint32_t slot = 0;
  proxy::SlotState state = proxy::SlotState::starting;
  pid_t pid = 0;                      // the worker the proxy routes to; 0 when none
  std::uint64_t generation = 0;       // of that worker (of the last one while none)
  std::uint16_t port = 0;             // of that worker (of the last one while none)
  std::uint64_t last_generation = 0;  // the newest generation started in this slot
  unsigned restarts = 0;              // workers started in this slot after its first
  unsigned crashes_in_a_row = 0;      // unplanned exits and failed starts since the last reset
  std::optional<int> last_exit;       // wait status of the last worker of the slot that ended
  Clock::time_point started_at{};     // of the routed worker
  bool settled = false;               // its first worker became ready, or the slot errored
};

// What ended when a worker process was reaped.
struct WorkerExit {
  WorkerProcess worker;
  bool routed = false;   // the slot routed to it
  bool planned = false;  // it had been asked to stop
  Clock::duration uptime{};
};

// Every slot and every live worker process of the master.
class ProcessTable {
 public:
  explicit ProcessTable(std::uint32_t slots = 0);

  const std::vector<SlotRecord>& slots() const { return slots_; }
  const std::vector<WorkerProcess>& workers() const { return workers_; }
  const SlotRecord& slot(std::uint32_t slot) const { return slots_.at(slot); }
  const WorkerProcess* find(pid_t pid) const;
  // The routed worker of `slot`, or nullptr.
  const WorkerProcess* routed(std::uint32_t slot) const;

  // The generation the next worker started in `slot` gets.
  std::uint64_t next_generation(std::uint32_t slot) const;
  // Records a worker just launched in `slot` with the next generation.
  const WorkerProcess& add(std::uint32_t slot, pid_t pid, std::uint16_t port,
                           Clock::time_point now);
  void mark_ready(pid_t pid);
  void mark_stopping(pid_t pid);
  // The slot routes to `pid` from now on: state ready, its address and generation. The slot's
  // previous worker, if any, stays in the table until it exits.
  void route_to(pid_t pid);
  // The routed worker takes no new requests (a rolling restart is about to replace it).
  void set_draining(std::uint32_t slot);
  // The slot routes nowhere; `errored` when it crashed `crash_loop` times in a row.
  void set_stopped(std::uint32_t slot);
  void set_errored(std::uint32_t slot);
  // Unplanned exits and failed starts in a row (see restart_policy.hpp).
  void set_crashes_in_a_row(std::uint32_t slot, unsigned count);
  // Removes a reaped worker. A routed worker's slot is left stopped (errored stays errored).
  std::optional<WorkerExit> remove(pid_t pid, int wait_status, Clock::time_point now);

  // Adds slots up to `count` (state starting), or drops the last ones (which must have no
  // worker process left).
  void resize(std::uint32_t count);

  // The table as the proxy must see it.
  std::vector<proxy::SlotMembership> membership() const;
  // Every slot settled: its first worker became ready, or it errored.
  bool all_settled() const;

 private:
  WorkerProcess* find_mutable(pid_t pid);

  std::vector<SlotRecord> slots_;
  std::vector<WorkerProcess> workers_;
};

// "127.0.0.1:40001"; empty for port 0.
std::string loopback_address(std::uint16_t port);

// "exit code 1", "killed by SIGKILL".
std::string describe_wait_status(int wait_status);

}  // namespace corral::master
