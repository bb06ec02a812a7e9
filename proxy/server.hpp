#pragma once
// One proxy generation in one process: binds the listeners, runs the proxy threads, the admin
// listener and the upstream prober on the control thread, and drains on SIGTERM/SIGINT.
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "proxy/admin_listener.hpp"
#include "proxy/asio.hpp"

namespace corral::proxy {

class SharedState;
class ProxyThread;
class UpstreamProber;

class Server {
 public:
  explicit Server(config::Config cfg);
  ~Server();

  // Binds, starts, blocks until drained after a signal; returns the process exit code.
  int run();

 private:
  AdminResponse handle_admin(const AdminRequest& req);
  void start_drain();
  awaitable<void> wait_drained();

  asio::io_context control_;
  std::unique_ptr<SharedState> shared_;
  std::vector<std::unique_ptr<ProxyThread>> threads_;
  std::unique_ptr<AdminListener> admin_;
  std::unique_ptr<UpstreamProber> prober_;
  int access_log_fd_ = -1;
};

}  // namespace corral::proxy
