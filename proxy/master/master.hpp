#pragma once
// The master process of `corral run`: binds every listener and holds it, runs the proxy
// process (restarting it if it dies, replacing it on a config reload) and the worker slots, and
// answers signals and the control socket. One thread, one io_context; it never does request
// work, so a crash in request handling can take neither the listeners nor the workers down.
#include <boost/asio/signal_set.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/master/affinity_handover.hpp"
#include "proxy/master/asio.hpp"
#include "proxy/master/control_socket.hpp"
#include "proxy/master/listener_set.hpp"
#include "proxy/master/proc_stats.hpp"
#include "proxy/master/proxy_process.hpp"
#include "proxy/master/rolling_restart.hpp"
#include "proxy/master/stand_in.hpp"
#include "proxy/master/state_changed.hpp"
#include "proxy/master/supervisor.hpp"

namespace corral::master {

// The master's event loop. Its coroutines are destroyed with it, and their locals may refer to
// the master's members: discard_pending_work() lets the master destroy them first.
class MasterLoop : public asio::io_context {
 public:
  MasterLoop() : asio::io_context(1) {}
  void discard_pending_work() { shutdown(); }
};

// The control plane of one `corral run`.
class Master {
 public:
  Master(config::Config config, std::string config_path);
  ~Master();

  // Runs until stopped (SIGTERM, SIGINT, `corral stop`); returns the exit code.
  int run();

 private:
  // Signals and children.
  void wait_signal();
  void on_signal(int signal);
  void reap_children();

  // The proxy.
  std::shared_ptr<ProxyProcess> launch_proxy(const ListenerSet& listeners,
                                             std::uint32_t worker_slots);
  std::uint32_t worker_slots() const;
  void on_proxy_message(ProxyProcess& proxy, const proxy::ControlMessage& message);
  // An admin HTTP command the proxy relays: run it as from the control socket, answer `reply`.
  void on_proxy_command(ProxyProcess& proxy, const proxy::ControlMessage& message);
  void on_affinity_snapshot(ProxyProcess& proxy, const proxy::ControlMessage& message);
  void on_proxy_exit(std::shared_ptr<ProxyProcess> proxy, int wait_status);
  awaitable<void> restart_proxy(config::Duration delay);
  void push_membership();
  awaitable<bool> wait_drained(std::uint32_t slot, std::uint64_t generation,
                               Clock::time_point deadline);
  void announce_ready_once();

  // Commands, from signals (no replies) or the control socket.
  // `requested_by` names the asker in logs and refusals; "corral COMMAND" when empty.
  awaitable<void> handle_control(ControlRequest request, std::shared_ptr<ControlReplies> replies,
                                 std::string requested_by = {});
  awaitable<void> rolling_restart(std::string requested_by, std::vector<std::uint32_t> slots,
                                  std::shared_ptr<ControlReplies> replies);
  awaitable<RollingRestart::Result> run_rollout(WorkerSpec next, WorkerSpec previous,
                                                std::string requested_by,
                                                std::vector<std::uint32_t> slots,
                                                std::shared_ptr<ControlReplies> replies);
  awaitable<void> restart_slot(std::uint32_t slot, std::shared_ptr<ControlReplies> replies);
  awaitable<void> reload_config(std::string requested_by, std::shared_ptr<ControlReplies> replies);
  // Stops: after `delay` (not ready, still serving), the proxy drains, then the workers stop.
  void begin_stop(const std::string& requested_by,
                  std::chrono::milliseconds delay = std::chrono::milliseconds::zero());
  awaitable<void> shutdown(std::chrono::milliseconds delay);

  // What runs right now that a second rollout or reload must not overlap.
  std::optional<std::string> busy() const;
  boost::json::object status() const;
  RolloutHooks rollout_hooks(std::shared_ptr<ControlReplies> replies);
  void sample_usage();

  MasterLoop ioc_;
  StateChanged changed_{ioc_};
  config::Config config_;
  std::string config_path_;  // absolute
  std::string binary_ = "/proc/self/exe";
  asio::signal_set signals_{ioc_};
  asio::steady_timer sample_timer_{ioc_};
  ListenerSet listeners_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<Supervisor> supervisor_;  // null when the config fronts upstreams

  std::vector<std::shared_ptr<ProxyProcess>> proxies_;  // every proxy process alive
  std::shared_ptr<ProxyProcess> current_;               // the one that takes new connections
  std::uint64_t proxy_generation_ = 0;
  unsigned proxy_quick_exits_ = 0;
  StandIn stand_in_{ioc_};  // answers 503 while the proxy crashes again and again
  bool proxy_served_ = false;  // a proxy generation said ready once: start-up is over
  // How the last accepting generation ended, or why it could not start.
  std::string proxy_last_exit_;
  std::map<std::uint32_t, std::uint64_t> retired_requests_;  // per slot, from exited proxies
  // Sticky learn mode's pins between proxy generations; removes its files when the master ends.
  AffinityHandover affinity_handover_;
  std::uint64_t affinity_saves_ = 0;  // snapshots the accepting generation reported

  std::unique_ptr<RollingRestart> rollout_;
  std::string operation_;  // a config reload under way
  Clock::time_point operation_started_{};
  CpuSampler usage_;
  Clock::time_point started_at_{};
  bool announced_ready_ = false;
  bool stopping_ = false;
  bool delaying_stop_ = false;  // within shutdown_delay: a second signal cuts it short
  int exit_code_ = 0;
};

}  // namespace corral::master
