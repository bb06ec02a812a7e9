#pragma once
// A rolling restart: the workers of the given slots are replaced one slot at a time, each
// replacement started and ready before the old worker leaves the proxy's selection, drained and
// stopped (with a port base, the old worker must go first: one slot fewer serves during that
// step). A replacement that does not become ready aborts the rollout and leaves the old workers
// serving. Also removes slots when a reload lowers workers.count.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/master/asio.hpp"
#include "proxy/master/process_table.hpp"
#include "proxy/master/supervisor.hpp"
#include "proxy/master/worker_spec.hpp"

namespace corral::master {

// What a rollout needs from the master beyond the supervisor.
struct RolloutHooks {
  // Waits until every running proxy reported `slot` (worker `generation`) drained, or the
  // deadline passed (false).
  std::function<awaitable<bool>(std::uint32_t slot, std::uint64_t generation,
                                Clock::time_point deadline)>
      wait_drained;
  // A step done, for the log and the CLI that asked.
  std::function<void(const std::string&)> progress;
};

// One rollout, from its request to its end.
class RollingRestart {
 public:
  struct Result {
    bool ok = false;
    std::string message;  // what was done, or why it stopped
  };

  // Workers started by the rollout (and crashed slots restarted meanwhile) use `spec`; an
  // aborted rollout puts `previous` back.
  RollingRestart(Supervisor& supervisor, WorkerSpec spec, WorkerSpec previous, RolloutHooks hooks,
                 std::string requested_by);

  // Replaces the worker of each slot in turn.
  awaitable<Result> run(std::vector<std::uint32_t> slots);
  // Drains and stops the slots from `count` up, then drops them.
  awaitable<void> remove_slots(std::uint32_t count);

  // "rolling restart requested by SIGUSR2 4 s ago, at slot 1 (2 of 3)"
  std::string describe() const;

 private:
  awaitable<Result> replace(std::uint32_t slot);
  awaitable<Result> replace_on_fixed_port(std::uint32_t slot);
  awaitable<void> drain(std::uint32_t slot, std::uint64_t generation);
  Result abort(std::string reason);
  void progress(const std::string& text);

  Supervisor& supervisor_;
  WorkerSpec spec_;
  WorkerSpec previous_;
  RolloutHooks hooks_;
  std::string requested_by_;
  Clock::time_point started_at_;
  std::vector<std::uint32_t> slots_;
  std::size_t at_ = 0;
  unsigned replaced_ = 0;
  unsigned skipped_ = 0;
};

}  // namespace corral::master
