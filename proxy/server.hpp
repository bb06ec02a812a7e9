#pragma once
// One proxy generation in one process: takes the listeners (bound here, or inherited from the
// master), runs the proxy threads, and on the control thread the admin listener, the upstream
// prober and the control channel to the master; drains on SIGTERM/SIGINT or the master's word,
// SIGTERM after shutdown_delay (not ready, still serving, meanwhile).
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "config/config.hpp"
#include "proxy/admin_listener.hpp"
#include "proxy/asio.hpp"
#include "proxy/inherited_sockets.hpp"
#include "proxy/membership.hpp"

namespace corral::proxy {

class SharedState;
class ProxyThread;
class UpstreamProber;
class ControlChannel;
class AdminCommands;
class AffinityKeeper;

class Server {
 public:
  // Uses the sockets the master handed over (see inherited_sockets.hpp) when there are any.
  explicit Server(config::Config cfg);
  ~Server();

  // Binds, starts, blocks until drained; returns the process exit code.
  int run();
  // Whether it has started accepting (an error before that is a failure to start).
  bool accepting() const { return threads_started_; }

 private:
  awaitable<AdminResponse> handle_admin(const AdminRequest& req, const tcp::endpoint& peer);
  bool sessions_fail_closed() const;
  void on_control(const ControlMessage& m);
  void apply_membership(const std::vector<SlotMembership>& slots);
  void start_threads();
  // Not ready from now on (/readyz answers 503), still serving; the master drains later.
  void stop_being_ready();
  void start_drain();
  void wait_signal(asio::signal_set& signals);
  awaitable<void> drain_after(std::chrono::milliseconds delay);
  awaitable<void> wait_drained();
  awaitable<void> report_loop();

  asio::io_context control_;
  std::optional<InheritedSockets> inherited_;
  std::unique_ptr<SharedState> shared_;
  std::vector<std::unique_ptr<ProxyThread>> threads_;
  std::unique_ptr<AdminListener> admin_;
  std::unique_ptr<UpstreamProber> prober_;
  std::unique_ptr<ControlChannel> control_channel_;
  std::unique_ptr<AdminCommands> admin_commands_;
  std::unique_ptr<AffinityKeeper> affinity_keeper_;  // sticky learn mode
  std::vector<std::size_t> sessions_per_slot_;       // sticky learn mode, refreshed for stats
  std::chrono::steady_clock::time_point sessions_counted_at_{};
  std::vector<SlotMembership> membership_;      // as last applied
  std::vector<char> drained_reported_;          // by slot, for the current draining generation
  bool threads_started_ = false;
  bool draining_ = false;
  bool unready_ = false;  // stopping: /readyz answers 503 before the drain begins
  int access_log_fd_ = -1;
};

}  // namespace corral::proxy
