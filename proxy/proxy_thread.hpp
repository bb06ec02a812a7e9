#pragma once
// One data-plane thread: its own io_context, acceptors, balancer, upstream pool, buffers,
// metrics and access log. Nothing here is touched by another thread but the atomics.
#include <boost/intrusive/list.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "balancer/balancer.hpp"
#include "proxy/access_log.hpp"
#include "proxy/asio.hpp"
#include "proxy/drainable.hpp"
#include "proxy/free_list.hpp"
#include "proxy/idle_timeouts.hpp"
#include "proxy/metrics.hpp"
#include "proxy/shared_state.hpp"
#include "proxy/request_chain.hpp"
#include "proxy/sticky_router.hpp"
#include "proxy/tls_server.hpp"
#include "proxy/upstream_tls.hpp"
#include "proxy/upstream_pool.hpp"
#include "session/session_store.hpp"

namespace corral::proxy {

// What a client connection reads into while a request's head arrives (and small bodies move
// through), and the relay buffer of a larger body or a tunnel.
inline constexpr std::size_t read_block_size = 4096;
inline constexpr std::size_t relay_buffer_size = 64 * 1024;

class ProxyThread {
  // Destroyed explicitly first in ~ProxyThread: the coroutine frames of open sessions it still
  // holds refer to the members below.
  std::unique_ptr<asio::io_context> ioc_holder_;

 public:
  ProxyThread(SharedState& shared, unsigned index, int access_log_fd);
  ~ProxyThread();

  // Takes a listening socket (already bound and listening) to accept on; `tls`: its clients
  // speak TLS with these certificates (this thread builds its own contexts from them).
  void add_listener(tcp::acceptor::native_handle_type fd, const tcp::endpoint& local,
                    const ListenerTlsFiles* tls = nullptr);
  void start();           // runs the io_context on a new thread (accept loops spawned before)
  void begin_drain();     // thread-safe: stop accepting, close idle connections
  void stop();            // thread-safe: stop the loop
  void join();

  // Thread-safe: the upstream of `slot` moved (a new worker generation); pooled connections to
  // the old one are dropped.
  // `done` runs on this thread once the new endpoint is in place.
  void set_endpoint(balancer::SlotId slot, tcp::endpoint ep, std::function<void()> done);
  // Thread-safe: drop pooled connections to `slot` (its worker stopped).
  void forget_slot(balancer::SlotId slot);

  std::size_t open_sessions() const { return open_sessions_.load(std::memory_order_relaxed); }

  // Requests that wait for a slot (on_unavailable: hold, or every worker down) sleep here until
  // the next poll (every 25 ms), `deadline`, or a wake_waiters(), whichever comes first, then
  // look again. On this thread.
  awaitable<void> wait_for_change(std::chrono::steady_clock::time_point deadline);
  // Thread-safe: a slot's state changed (re-admitted, or taken out): waiting requests look now.
  void wake_waiters();

  asio::io_context& ioc;
  SharedState& shared;
  const unsigned index;
  std::unique_ptr<balancer::Balancer> balancer;
  std::unique_ptr<session::AffinityStore> affinity_store;  // sticky.store: redis
  std::unique_ptr<StickyRouter> sticky;  // with balance: sticky
  UpstreamPool pool;
  // Before the sessions that borrow from them: client read blocks and small relay buffers, and the
  // relay buffers of large bodies and tunnels.
  FreeList blocks{read_block_size};
  FreeList buffers{relay_buffer_size};
  FreeList session_memory;     // the DownstreamSessions of busy connections
  FreeList connection_memory;  // the ClientConnections, idle or busy
  FreeList idle_reads;         // the pending reads of idle connections
  FreeList idle_waits;         // the pending readiness waits of idle TLS connections
  FreeList idle_tls_reads;     // the pending first reads of idle TLS connections
  IdleTimeouts idle;        // the deadlines of idle client connections
  ThreadMetrics metrics;
  std::vector<tcp::endpoint> endpoints;  // this thread's copy, by slot
  AccessLog access_log;
  std::unique_ptr<session::SessionStore> sessions;  // shared-state mode: this thread's store
  std::unique_ptr<RequestChain> chain;  // the request path's stages, over the members above
  // By slot: TLS towards that upstream (static upstreams with tls:), else no context.
  std::vector<UpstreamTlsContext> upstream_tls;

  // Sessions of this thread, for the drain.
  void attach(Drainable& s);
  void detach(Drainable& s);
  const std::vector<std::unique_ptr<tcp::acceptor>>& acceptors() const { return acceptors_; }
  // The TLS contexts of acceptors()[i], or null for a plain listener.
  ServerTls* listener_tls(std::size_t i) const { return listener_tls_[i].get(); }

 private:
  awaitable<void> flush_loop();
  // Twice a second, gives back what the pools kept but no request took since the last time
  // (after a burst of connections), and the heap's free pages to the system: idle connections
  // then cost only their own memory.
  awaitable<void> trim_loop();

  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::vector<std::unique_ptr<ServerTls>> listener_tls_;  // by acceptor
  // What waiting requests sleep on: cancelled to wake them all, re-armed by the next sleeper.
  std::optional<asio::steady_timer> bell_;
  boost::intrusive::list<Drainable, boost::intrusive::constant_time_size<false>> sessions_;
  std::atomic<std::size_t> open_sessions_{0};
  std::thread thread_;
};

}  // namespace corral::proxy
