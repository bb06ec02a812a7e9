#pragma once
// Keeps every worker slot running: starts each slot's worker, notices when one becomes ready,
// replaces one that crashes (the slot leaves the proxy's selection at once, then restarts with
// backoff; a crash loop marks it errored), stops workers with their process group, and carries
// IPC messages between the master and the workers.
#include <sys/types.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "proxy/master/asio.hpp"
#include "proxy/master/ipc_channel.hpp"
#include "proxy/master/process_table.hpp"
#include "proxy/master/state_changed.hpp"
#include "proxy/master/worker_spec.hpp"

namespace corral::master {

// The master's worker slots and their processes.
class Supervisor {
 public:
  // `membership_changed` runs after every change the proxy must hear of.
  Supervisor(asio::io_context& ioc, StateChanged& changed, WorkerSpec spec,
             std::function<void()> membership_changed);
  ~Supervisor();

  const ProcessTable& table() const { return table_; }
  const WorkerSpec& spec() const { return *spec_; }
  // What crashed slots and new slots start from now on.
  void set_spec(WorkerSpec spec);

  // Starts the worker of every slot (in parallel).
  void start();

  // Launches a worker for `slot` from `spec` on `port` (0: a free one) and waits until it is
  // ready. On success the worker runs but the slot does not route to it yet (see route_to);
  // on failure (exit, ready.timeout, corral stopping) it is killed and `error` says why.
  struct Started {
    pid_t pid = 0;
    std::string error;
  };
  awaitable<Started> start_worker(std::uint32_t slot, WorkerSpec spec, std::uint16_t port);

  // The slot routes to `pid` from now on; false when `pid` is gone.
  bool route_to(pid_t pid);
  // The slot's worker takes no new requests.
  void set_draining(std::uint32_t slot);
  // Stops `pid` (planned: never restarted): `signal` to its process group, SIGKILL after
  // `timeout`; returns once it is gone.
  awaitable<void> stop_worker(pid_t pid, int signal, config::Duration timeout);
  // Stops every worker and starts none again.
  awaitable<void> stop_all();

  // While a slot is held (a rolling restart works on it), a crash there does not trigger a
  // restart; release() starts one if the slot is left without a worker.
  void hold(std::uint32_t slot);
  void release(std::uint32_t slot);
  // Starts a slot without a worker now, skipping any backoff wait (and clearing its crash count).
  bool restart_now(std::uint32_t slot);

  // Adds slots up to `count` and starts them, or removes the last slots (whose workers must have
  // been stopped by the caller).
  void resize(std::uint32_t count);

  // A reaped child; false when it was not a worker.
  bool on_exit(pid_t pid, int wait_status);

  // Delivers `message` to every ready worker; returns how many took it (the others dropped it).
  struct Delivery {
    unsigned delivered = 0;
    unsigned dropped = 0;
  };
  Delivery broadcast(const boost::json::value& message, pid_t except = 0);
  // Delivers to the worker `slot` routes to; error text when it has none.
  std::string send(std::uint32_t slot, const boost::json::value& message);

  std::uint64_t dropped_messages(pid_t pid) const;
  bool stopping() const { return stopping_; }

 private:
  // What the master holds for one live worker besides its table row.
  struct WorkerLink {
    std::shared_ptr<IpcChannel> channel;
    config::ReadyWhen ready_when = config::ReadyWhen::port;
  };
  // Restart bookkeeping of one slot.
  struct SlotRuntime {
    std::unique_ptr<asio::steady_timer> timer;
    bool restart_scheduled = false;
    unsigned starts_in_progress = 0;
    bool held = false;
  };

  awaitable<void> keep_running(std::uint32_t slot, config::Duration delay);
  void schedule_restart(std::uint32_t slot, config::Duration delay);
  // After an unplanned exit or failed start: the next start's delay, and errored when looping.
  config::Duration count_crash(std::uint32_t slot, Clock::duration uptime, bool became_ready);
  awaitable<void> probe_port(pid_t pid, std::uint16_t port, Clock::time_point deadline);
  void on_message(pid_t pid, const boost::json::value& message);
  void push();
  std::string label(const WorkerProcess& w) const;
  double random01();

  asio::io_context& ioc_;
  StateChanged& changed_;
  std::shared_ptr<const WorkerSpec> spec_;
  std::function<void()> membership_changed_;
  ProcessTable table_;
  std::map<pid_t, WorkerLink> links_;
  std::vector<SlotRuntime> runtime_;
  std::mt19937_64 random_;
  bool stopping_ = false;
};

}  // namespace corral::master
