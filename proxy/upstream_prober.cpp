#include "proxy/upstream_prober.hpp"

#include <spdlog/spdlog.h>

namespace corral::proxy {

UpstreamProber::UpstreamProber(asio::io_context& ioc, SharedState& shared)
    : ioc_(ioc), shared_(shared), next_check_(shared.upstreams.size()), probing_(shared.upstreams.size()) {}

void UpstreamProber::start() { asio::co_spawn(ioc_, loop(), asio::detached); }

awaitable<void> UpstreamProber::loop() {
  const auto& health = shared_.cfg.health;
  asio::steady_timer timer(ioc_);
  while (!stopped_) {
    auto now = std::chrono::steady_clock::now();
    for (balancer::SlotId s = 0; s < shared_.upstreams.size(); ++s) {
      if (probing_[s] || !shared_.admitted[s]) continue;
      bool due = health.enabled ? now >= next_check_[s] : shared_.health.probe_due(s, now);
      if (!due) continue;
      probing_[s] = true;
      next_check_[s] = now + health.interval;
      asio::co_spawn(ioc_, [this, s]() -> awaitable<void> {
        bool was_ejected = shared_.health.ejected(s);
        bool ok = co_await probe(s);
        probing_[s] = false;
        if (!shared_.admitted[s]) co_return;  // the master took the slot away meanwhile
        if (ok && was_ejected) {
          shared_.health.probe_succeeded(s);
          spdlog::info("upstream {} is back", shared_.upstreams[s].name);
        } else if (!ok) {
          if (!was_ejected) spdlog::warn("upstream {} failed its health check", shared_.upstreams[s].name);
          shared_.health.probe_failed(s);
        }
      }, asio::detached);
    }
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(nothrow);
  }
}

awaitable<bool> UpstreamProber::probe(balancer::SlotId s) {
  const auto& health = shared_.cfg.health;
  beast::tcp_stream stream(ioc_);
  stream.expires_after(health.enabled ? health.timeout : shared_.cfg.timeouts.connect);
  auto [ec] = co_await stream.async_connect(shared_.upstreams[s].endpoint, nothrow);
  if (ec) co_return false;
  if (!health.enabled) co_return true;
  http::request<http::empty_body> req{http::verb::get, health.path, 11};
  req.set(http::field::host, shared_.upstreams[s].name);
  req.set(http::field::user_agent, "corral-health-check");
  req.keep_alive(false);
  auto [wec, wn] = co_await http::async_write(stream, req, nothrow);
  if (wec) co_return false;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, nothrow);
  if (rec) co_return false;
  auto code = parser.get().result_int();
  co_return code >= 200 && code < 300;
}

}  // namespace corral::proxy
