#include "proxy/server.hpp"

#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "config/address.hpp"
#include "proxy/accept_loop.hpp"
#include "proxy/admin_commands.hpp"
#include "proxy/affinity_keeper.hpp"
#include "proxy/control_channel.hpp"
#include "proxy/listen_socket.hpp"
#include "proxy/metrics_text.hpp"
#include "proxy/proxy_thread.hpp"
#include "proxy/session_metrics.hpp"
#include "proxy/shared_state.hpp"
#include "proxy/upstream_prober.hpp"

namespace corral::proxy {

namespace {

std::size_t worker_slots_from_env() {
  const char* v = std::getenv("CORRAL_WORKER_SLOTS");
  return v ? static_cast<std::size_t>(std::strtoul(v, nullptr, 10)) : 0;
}

}  // namespace

Server::Server(config::Config cfg) : control_(1), inherited_(inherited_from_env()) {
  shared_ = std::make_unique<SharedState>(std::move(cfg), inherited_ ? worker_slots_from_env() : 0);
  drained_reported_.assign(shared_->upstreams.size(), 0);
  membership_.resize(shared_->upstreams.size());
}

Server::~Server() {
  if (affinity_keeper_) affinity_keeper_->stop();
  for (auto& t : threads_) t->stop();
  for (auto& t : threads_) t->join();
  threads_.clear();
  if (access_log_fd_ > 2) ::close(access_log_fd_);
}

int Server::run() {
  const auto& cfg = shared_->cfg;
  access_log_fd_ = open_access_log(cfg.access_log);

  std::vector<BoundListener> listeners;
  std::optional<BoundListener> admin;
  if (inherited_) {
    listeners = inherited_->listeners;
    admin = inherited_->admin;
  } else {
    unsigned n = cfg.threads ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
    for (const auto& l : cfg.listen) listeners.push_back(bind_listener(l.address, n));
    if (cfg.admin) admin = bind_listener(*cfg.admin, 1, 128);
  }
  // One thread per inherited socket when the master bound them; threads share sockets when the
  // config asks for more threads than there are sockets.
  unsigned nthreads = cfg.threads ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < nthreads; ++i)
    threads_.push_back(std::make_unique<ProxyThread>(*shared_, i, access_log_fd_));
  // Requests waiting for a slot (hold, or every worker down) look again as soon as one is back.
  shared_->health.on_readmitted([this](balancer::SlotId) {
    for (auto& t : threads_) t->wake_waiters();
  });
  for (std::size_t k = 0; k < listeners.size(); ++k) {
    const auto& l = listeners[k];
    const ListenerTlsFiles* tls =
        k < shared_->listener_tls.size() ? shared_->listener_tls[k].get() : nullptr;
    for (unsigned i = 0; i < nthreads; ++i) {
      int fd = l.fds[i % l.fds.size()];
      if (i >= l.fds.size()) fd = ::dup(fd);
      threads_[i]->add_listener(fd, l.local, tls);
    }
  }
  if (admin) {
    admin_ = std::make_unique<AdminListener>(
        control_, admin->fds[0], admin->local,
        [this](const AdminRequest& r, const tcp::endpoint& peer) { return handle_admin(r, peer); });
    admin_->start();
  }
  if (!inherited_) {
    if (admin) spdlog::info("admin on {}", url_of(admin->local));
    for (std::size_t k = 0; k < listeners.size(); ++k) {
      const bool tls = k < shared_->listener_tls.size() && shared_->listener_tls[k];
      spdlog::info("listening on {}", url_of(listeners[k].local, tls));
    }
  }

  prober_ = std::make_unique<UpstreamProber>(control_, *shared_);
  prober_->start();

  if (inherited_ && inherited_->control_fd >= 0) {
    control_channel_ = std::make_unique<ControlChannel>(
        control_, inherited_->control_fd, [this](const ControlMessage& m) { on_control(m); },
        [this] {
          admin_commands_->close();
          if (!draining_) {
            spdlog::warn("control channel to the master closed: draining");
            start_drain();
          }
        });
    control_channel_->start();
    admin_commands_ = std::make_unique<AdminCommands>(
        control_, [this](const ControlMessage& m) { control_channel_->send(m); });
    asio::co_spawn(control_, report_loop(), asio::detached);
  }
  if (shared_->affinity) {
    AffinityKeeper::OnSaved on_saved;
    if (control_channel_) {
      on_saved = [this](const std::string& file, std::uint64_t entries,
                        const std::string& restored) {
        ControlMessage m{"affinity"};
        m.file = file;
        m.entries = entries;
        m.restored = restored;
        control_channel_->send(m);
      };
    }
    affinity_keeper_ = std::make_unique<AffinityKeeper>(control_, *shared_->affinity, on_saved);
    affinity_keeper_->start();
  }
  // Worker slots have no address until the master's first membership: accept only after it, so
  // that a new proxy generation never answers 503 for want of knowing the workers.
  if (!shared_->worker_mode) start_threads();

  asio::signal_set signals(control_, SIGTERM, SIGINT);
  wait_signal(signals);
  control_.run();
  for (auto& t : threads_) t->stop();
  for (auto& t : threads_) t->join();
  spdlog::info("proxy stopped");
  return 0;
}

void Server::start_threads() {
  if (threads_started_) return;
  threads_started_ = true;
  for (auto& t : threads_) {
    for (std::size_t i = 0; i < t->acceptors().size(); ++i)
      asio::co_spawn(t->ioc, accept_loop(*t, *t->acceptors()[i], t->listener_tls(i),
                                 i < shared_->cfg.listen.size() && shared_->cfg.listen[i].h2c),
                     asio::detached);
    t->start();
  }
  const auto& cfg = shared_->cfg;
  const char* balance = cfg.balance == config::Balance::round_robin      ? "round_robin"
                        : cfg.balance == config::Balance::least_loaded   ? "least_loaded"
                        : !cfg.sticky                                    ? "sticky"
                        : cfg.sticky->mode == config::StickyMode::learn  ? "sticky (learn)"
                        : cfg.sticky->mode == config::StickyMode::insert ? "sticky (insert)"
                                                                         : "sticky (hash)";
  if (control_channel_) {
    spdlog::info("proxy generation up: {} thread(s), {} slot(s), balance {}", threads_.size(),
                 shared_->upstreams.size(), balance);
    control_channel_->send(ControlMessage{"ready"});
  } else {
    spdlog::info("ready: {} thread(s), {} upstream(s), balance {}", threads_.size(),
                 shared_->upstreams.size(), balance);
  }
}

void Server::on_control(const ControlMessage& m) {
  if (m.type == "membership") {
    apply_membership(m.slots);
    start_threads();
  } else if (m.type == "drain") {
    start_drain();
  } else if (m.type == "unready") {
    stop_being_ready();
  } else if (m.type == "reply" && admin_commands_) {
    admin_commands_->on_reply(m);
  } else if (m.type == "affinity" && affinity_keeper_) {
    affinity_keeper_->restore_from(m.file);
  } else if (m.type == "save" && affinity_keeper_) {
    affinity_keeper_->save_now();
  }
}

void Server::apply_membership(const std::vector<SlotMembership>& slots) {
  for (const auto& m : slots) {
    if (m.slot >= shared_->upstreams.size()) continue;
    auto s = static_cast<balancer::SlotId>(m.slot);
    auto& known = membership_[s];
    bool ready = m.state == SlotState::ready && !m.address.empty();
    if (ready) {
      auto addr = config::parse_address(m.address);
      if (!addr) {
        spdlog::warn("membership: slot {} has a malformed address '{}'", s, m.address);
        continue;
      }
      tcp::endpoint ep;
      try {
        ep = resolve_address(*addr);
      } catch (const std::exception& e) {
        spdlog::warn("membership: slot {}: {}", s, e.what());
        continue;
      }
      shared_->admitted[s] = 1;
      if (ep != shared_->upstreams[s].endpoint || m.generation != known.generation || !threads_started_) {
        shared_->upstreams[s].endpoint = ep;
        if (m.generation != known.generation) shared_->queue.worker_replaced(s);
        // The slot enters selection only once every thread knows the new address: a thread
        // still holding the old one would connect to the worker that just went away.
        auto pending = std::make_shared<std::atomic<std::size_t>>(threads_.size());
        auto generation = m.generation;
        for (auto& t : threads_)
          t->set_endpoint(s, ep, [this, s, pending, generation] {
            if (pending->fetch_sub(1) != 1) return;
            asio::post(control_, [this, s, generation] {
              if (shared_->admitted[s] && membership_[s].generation == generation)
                shared_->health.probe_succeeded(s);  // also marks it usable
            });
          });
      } else {
        shared_->health.probe_succeeded(s);
      }
    } else {
      shared_->admitted[s] = 0;
      const bool was_usable = shared_->slots.usable(s);
      shared_->slots.set_usable(s, false);
      if (m.state != SlotState::draining)
        for (auto& t : threads_) t->forget_slot(s);
      // A request waiting to see whether its worker died learns it now.
      if (was_usable)
        for (auto& t : threads_) t->wake_waiters();
    }
    if (m.state != SlotState::draining || m.generation != known.generation) drained_reported_[s] = 0;
    known = m;
  }
}

awaitable<void> Server::report_loop() {
  asio::steady_timer timer(control_);
  auto next_stats = std::chrono::steady_clock::now();
  while (!draining_ || control_channel_) {
    // Waiting requests are handed a slot the moment one frees or comes up; this catches a
    // re-admission that came from elsewhere (the prober, a new worker's address).
    shared_->queue.tick();
    // A slot the master is draining: say so as soon as nothing is in flight on it.
    for (std::size_t s = 0; s < membership_.size(); ++s) {
      if (membership_[s].state != SlotState::draining || drained_reported_[s]) continue;
      if (shared_->slots.in_flight(static_cast<balancer::SlotId>(s)) != 0) continue;
      drained_reported_[s] = 1;
      ControlMessage m{"drained"};
      m.slot = static_cast<std::uint32_t>(s);
      m.generation = membership_[s].generation;
      control_channel_->send(m);
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_stats) {
      next_stats = now + std::chrono::seconds(1);
      ControlMessage m{"stats"};
      if (shared_->affinity && now - sessions_counted_at_ >= std::chrono::seconds(2)) {
        // A scan of the whole table: not every second.
        sessions_counted_at_ = now;
        sessions_per_slot_ = shared_->affinity->sessions_per_slot(shared_->upstreams.size(), now);
      }
      for (std::size_t s = 0; s < shared_->upstreams.size(); ++s) {
        std::uint64_t requests = 0;
        for (auto& t : threads_)
          for (const auto& c : t->metrics.upstreams[s].by_class) requests += c.get();
        m.stats.push_back({static_cast<std::uint32_t>(s),
                           shared_->slots.in_flight(static_cast<balancer::SlotId>(s)),
                           requests,
                           {}});
        if (s < sessions_per_slot_.size()) m.stats.back().sessions = sessions_per_slot_[s];
        if (shared_->queue.enabled())
          m.stats.back().limit = shared_->slots.limit(static_cast<balancer::SlotId>(s));
      }
      m.queued = shared_->queue.length();
      control_channel_->send(m);
    }
    timer.expires_after(std::chrono::milliseconds(10));
    auto [ec] = co_await timer.async_wait(nothrow);
    if (ec) co_return;
  }
}

void Server::wait_signal(asio::signal_set& signals) {
  signals.async_wait([this, &signals](error_code ec, int sig) {
    if (ec || draining_) return;
    const auto delay = shared_->cfg.shutdown_delay;
    // SIGTERM is how an orchestrator stops a container: stay in service while it stops sending
    // (shutdown_delay). SIGINT, or a second signal, is someone who wants it gone: drain now.
    if (sig == SIGTERM && !unready_ && delay.count() > 0) {
      spdlog::info("signal {}: not ready; serving for {} ms more, then draining (up to {} ms)", sig,
                   delay.count(), shared_->cfg.timeouts.drain.count());
      stop_being_ready();
      asio::co_spawn(control_, drain_after(delay), asio::detached);
      wait_signal(signals);
      return;
    }
    spdlog::info("signal {}: draining (up to {} ms)", sig, shared_->cfg.timeouts.drain.count());
    start_drain();
  });
}

void Server::stop_being_ready() { unready_ = true; }

awaitable<void> Server::drain_after(std::chrono::milliseconds delay) {
  asio::steady_timer timer(control_);
  timer.expires_after(delay);
  co_await timer.async_wait(nothrow);
  if (!draining_) spdlog::info("shutdown delay over: draining");
  start_drain();
}

void Server::start_drain() {
  if (draining_) return;
  draining_ = true;
  shared_->draining.store(true);
  if (!threads_started_) {
    control_.stop();
    return;
  }
  for (auto& t : threads_) t->begin_drain();
  asio::co_spawn(control_, wait_drained(), asio::detached);
}

awaitable<void> Server::wait_drained() {
  auto deadline = std::chrono::steady_clock::now() + shared_->cfg.timeouts.drain;
  asio::steady_timer timer(control_);
  for (;;) {
    std::size_t open = 0;
    for (auto& t : threads_) open += t->open_sessions();
    if (open == 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("drain timeout: closing {} connection(s)", open);
      break;
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(nothrow);
  }
  prober_->stop();
  if (admin_) admin_->close();
  if (affinity_keeper_) {
    // The last snapshot, with every pin learned until now, for the generation that took over.
    affinity_keeper_->stop();
    if (affinity_keeper_->save_now() && control_channel_) {
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!control_channel_->idle() && std::chrono::steady_clock::now() < until) {
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(nothrow);
      }
    }
  }
  control_.stop();
}

bool Server::sessions_fail_closed() const {
  const auto& s = shared_->cfg.sessions;
  return s && s->on_store_down == config::StoreDown::fail_closed;
}

awaitable<AdminResponse> Server::handle_admin(const AdminRequest& req, const tcp::endpoint& peer) {
  auto target = req.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (AdminCommands::handles(target)) {
    if (!admin_commands_) admin_commands_ = std::make_unique<AdminCommands>(control_, nullptr);
    co_return co_await admin_commands_->handle(req, peer);
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    co_return text_response(req, http::status::method_not_allowed, "use GET\n");
  if (target == "/healthz") co_return text_response(req, http::status::ok, "ok\n");
  if (target == "/readyz") {
    if (shared_->draining.load())
      co_return text_response(req, http::status::service_unavailable, "draining\n");
    if (unready_) co_return text_response(req, http::status::service_unavailable, "stopping\n");
    if (shared_->slots.usable_count() == 0)
      co_return text_response(req, http::status::service_unavailable, "no upstream usable\n");
    // fail_open serves without the store, so only fail_closed makes it a condition of readiness.
    if (sessions_fail_closed() && !session_store_up(threads_))
      co_return text_response(req, http::status::service_unavailable, "session store down\n");
    co_return text_response(req, http::status::ok, "ready\n");
  }
  if (target == "/metrics")
    co_return text_response(req, http::status::ok, render_metrics(*shared_, threads_),
                            "text/plain; version=0.0.4");
  co_return text_response(req, http::status::not_found,
                          "unknown admin path; try /healthz /readyz /metrics /admin/status\n");
}

}  // namespace corral::proxy
