#include "proxy/server.hpp"

#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <thread>

#include "proxy/listen_socket.hpp"
#include "proxy/metrics_text.hpp"
#include "proxy/proxy_thread.hpp"
#include "proxy/shared_state.hpp"
#include "proxy/upstream_prober.hpp"

namespace corral::proxy {

Server::Server(config::Config cfg) : control_(1) {
  shared_ = std::make_unique<SharedState>(std::move(cfg));
}

Server::~Server() {
  for (auto& t : threads_) t->stop();
  for (auto& t : threads_) t->join();
  threads_.clear();
  if (access_log_fd_ > 2) ::close(access_log_fd_);
}

int Server::run() {
  const auto& cfg = shared_->cfg;
  unsigned nthreads = cfg.threads ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  access_log_fd_ = open_access_log(cfg.access_log);

  for (unsigned i = 0; i < nthreads; ++i)
    threads_.push_back(std::make_unique<ProxyThread>(*shared_, i, access_log_fd_));
  std::vector<tcp::endpoint> bound;
  for (const auto& address : cfg.listen) {
    auto l = bind_listener(address, nthreads);
    for (unsigned i = 0; i < nthreads; ++i) threads_[i]->add_listener(l.fds[i], l.local);
    bound.push_back(l.local);
  }
  if (cfg.admin) {
    auto l = bind_listener(*cfg.admin, 1, 128);
    admin_ = std::make_unique<AdminListener>(control_, l.fds[0], l.local,
                                             [this](const AdminRequest& r) { return handle_admin(r); });
    admin_->start();
    spdlog::info("admin on {}", url_of(l.local));
  }
  for (const auto& ep : bound) spdlog::info("listening on {}", url_of(ep));

  prober_ = std::make_unique<UpstreamProber>(control_, *shared_);
  prober_->start();
  for (auto& t : threads_) t->start();

  asio::signal_set signals(control_, SIGTERM, SIGINT);
  signals.async_wait([this](error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: draining (up to {} ms)", sig, shared_->cfg.timeouts.drain.count());
    start_drain();
  });
  spdlog::info("ready: {} thread(s), {} upstream(s), balance {}", nthreads, shared_->upstreams.size(),
               cfg.balance == config::Balance::round_robin ? "round_robin" : "least_loaded");
  control_.run();
  for (auto& t : threads_) t->stop();
  for (auto& t : threads_) t->join();
  spdlog::info("stopped");
  return 0;
}

void Server::start_drain() {
  shared_->draining.store(true);
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
  control_.stop();
}

AdminResponse Server::handle_admin(const AdminRequest& req) {
  auto target = req.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return text_response(req, http::status::method_not_allowed, "use GET\n");
  if (target == "/healthz") return text_response(req, http::status::ok, "ok\n");
  if (target == "/readyz") {
    if (shared_->draining.load()) return text_response(req, http::status::service_unavailable, "draining\n");
    if (shared_->slots.usable_count() == 0)
      return text_response(req, http::status::service_unavailable, "no upstream usable\n");
    return text_response(req, http::status::ok, "ready\n");
  }
  if (target == "/metrics")
    return text_response(req, http::status::ok, render_metrics(*shared_, threads_),
                         "text/plain; version=0.0.4");
  return text_response(req, http::status::not_found, "unknown admin path; try /healthz /readyz /metrics\n");
}

}  // namespace corral::proxy
