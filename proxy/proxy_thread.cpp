#include "proxy/proxy_thread.hpp"

#include <malloc.h>

#include <spdlog/spdlog.h>

#include "proxy/client_connection.hpp"
#include "proxy/shared_session.hpp"

namespace corral::proxy {

// One thread runs the io_context, and only it touches the sockets and timers made on it (other
// threads post to it): Asio may leave out the lock around each socket's queue of operations.
// Posting and registering sockets stay locked.
ProxyThread::ProxyThread(SharedState& s, unsigned i, int access_log_fd)
    : ioc_holder_(std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO)),
      ioc(*ioc_holder_),
      shared(s),
      index(i),
      balancer(balancer::make_balancer(s.cfg, s.slots)),
      pool(ioc, s.upstreams.size(), std::chrono::milliseconds(4000)),
      idle(ioc, &ClientConnection::expire),
      metrics(s.upstreams.size()),
      access_log(access_log_fd) {
  for (const auto& u : s.upstreams) endpoints.push_back(u.endpoint);
  upstream_tls.resize(s.upstreams.size());
  if (!s.worker_mode) {
    for (std::size_t i = 0; i < s.cfg.upstreams.size() && i < upstream_tls.size(); ++i)
      if (s.cfg.upstreams[i].tls) upstream_tls[i] = make_upstream_tls(s.cfg.upstreams[i]);
  }
  bell_.emplace(ioc);
  if (s.cfg.balance == config::Balance::sticky && s.cfg.sticky) {
    const auto& st = *s.cfg.sticky;
    if (st.mode == config::StickyMode::learn && st.store == config::StickyStore::redis) {
      affinity_store = std::make_unique<session::AffinityStore>(
          ioc, st, redis_connect_host(st.redis), s.upstreams.size());
    }
    sticky = std::make_unique<StickyRouter>(st, s.affinity.get(), affinity_store.get(), *balancer);
  }
  if (s.cfg.sessions) {
    sessions = std::make_unique<session::SessionStore>(
        ioc, *s.cfg.sessions, redis_connect_host(s.cfg.sessions->redis), &s.session_writes);
  }
  chain = std::make_unique<RequestChain>(*balancer, RewriteStage(s.id_prefix, index), sticky.get(),
                                         sessions.get(),
                                         RequestLogStage(metrics, access_log, s.upstreams.size()),
                                         s.cfg.limits.max_header_bytes);
}

void ProxyThread::set_endpoint(balancer::SlotId slot, tcp::endpoint ep, std::function<void()> done) {
  asio::post(ioc, [this, slot, ep, done = std::move(done)] {
    endpoints[slot] = ep;
    pool.clear_slot(slot);
    bell_->cancel();  // a request waiting for this slot's next worker looks now
    done();
  });
}

void ProxyThread::forget_slot(balancer::SlotId slot) {
  asio::post(ioc, [this, slot] { pool.clear_slot(slot); });
}

ProxyThread::~ProxyThread() {
  stop();
  join();
  acceptors_.clear();
  pool.clear();
  upstream_tls.clear();
  chain.reset();     // its stages refer to the store and the router
  sessions.reset();  // its sockets and timers belong to the io_context
  sticky.reset();
  affinity_store.reset();
  bell_.reset();
  idle.close();
  ioc_holder_.reset();
}

void ProxyThread::add_listener(tcp::acceptor::native_handle_type fd, const tcp::endpoint& local,
                               const ListenerTlsFiles* tls) {
  auto a = std::make_unique<tcp::acceptor>(ioc);
  a->assign(local.protocol(), fd);
  acceptors_.push_back(std::move(a));
  listener_tls_.push_back(tls ? std::make_unique<ServerTls>(*tls, shared.ticket_keys) : nullptr);
}

void ProxyThread::start() {
  if (access_log.enabled()) asio::co_spawn(ioc, flush_loop(), asio::detached);
  asio::co_spawn(ioc, trim_loop(), asio::detached);
  if (sessions) asio::post(ioc, [this] { sessions->start(); });
  if (affinity_store) asio::post(ioc, [this] { affinity_store->start(); });
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(ioc);
    ioc.run();
  });
}

awaitable<void> ProxyThread::wait_for_change(std::chrono::steady_clock::time_point deadline) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  const auto poll = now + std::chrono::milliseconds(25);
  if (deadline < poll) {
    // Sooner than the next poll: a timer of this request's own.
    asio::steady_timer own(ioc, deadline);
    co_await own.async_wait(nothrow);
    co_return;
  }
  // Re-arming wakes whoever still waits on an expired bell: they only look again.
  if (bell_->expiry() <= now) bell_->expires_at(poll);
  co_await bell_->async_wait(nothrow);
}

void ProxyThread::wake_waiters() {
  asio::post(ioc, [this] { bell_->cancel(); });
}

void ProxyThread::begin_drain() {
  asio::post(ioc, [this] {
    for (auto& a : acceptors_) {
      error_code ec;
      a->close(ec);
    }
    for (auto& s : sessions_) s.drain();
    access_log.flush();
  });
}

void ProxyThread::stop() {
  asio::post(ioc, [this] { access_log.flush(); ioc.stop(); });
}

void ProxyThread::join() {
  if (thread_.joinable()) thread_.join();
}

void ProxyThread::attach(Drainable& s) {
  sessions_.push_back(s);
  open_sessions_.fetch_add(1, std::memory_order_relaxed);
}

void ProxyThread::detach(Drainable& s) {
  sessions_.erase(sessions_.iterator_to(s));
  open_sessions_.fetch_sub(1, std::memory_order_relaxed);
}

awaitable<void> ProxyThread::trim_loop() {
  asio::steady_timer timer(ioc);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(500));
    auto [ec] = co_await timer.async_wait(nothrow);
    if (ec) co_return;
    // Unmapped whole: the system has these pages back at once.
    std::size_t freed = 0;
    for (FreeList* list :
         {&blocks, &buffers, &session_memory, &connection_memory, &idle_reads, &idle_waits,
          &idle_tls_reads})
      freed += list->trim();
    // The coroutine frames and Asio operations of the same busy connections were in the heap,
    // between live blocks; only malloc_trim hands their pages back. Not for a few: it walks the
    // whole heap.
    if (freed >= 64 * 1024) ::malloc_trim(0);
  }
}

awaitable<void> ProxyThread::flush_loop() {
  asio::steady_timer timer(ioc);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await timer.async_wait(nothrow);
    if (ec) co_return;
    access_log.flush();
  }
}


}  // namespace corral::proxy
