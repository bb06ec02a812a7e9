#include "proxy/accept_loop.hpp"

#include <spdlog/spdlog.h>

#include "proxy/client_connection.hpp"
#include "proxy/downstream_session.hpp"
#include "proxy/proxy_thread.hpp"
#include "proxy/tls_server.hpp"

namespace corral::proxy {

awaitable<void> accept_loop(ProxyThread& t, tcp::acceptor& acceptor, ServerTls* tls, bool h2c) {
  const auto max = t.shared.cfg.limits.max_connections;
  for (;;) {
    // Accepted onto the thread's io_context: the socket's executor is that, not type-erased.
    auto [ec, socket] = co_await acceptor.async_accept(t.ioc, nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // Out of descriptors or memory: back off briefly instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer wait(t.ioc, std::chrono::milliseconds(50));
      co_await wait.async_wait(nothrow);
      continue;
    }
    t.metrics.connections_accepted.add();
    if (t.shared.open_connections.fetch_add(1, std::memory_order_relaxed) >= max) {
      t.shared.open_connections.fetch_sub(1, std::memory_order_relaxed);
      t.metrics.connections_refused.add();
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    if (tls || h2c) {
      // A TLS or h2c connection keeps its session, which owns its stream, for its whole life:
      // the handshake's state, or the HTTP/2 preface to look for, is more than an idle read.
      DownstreamSession::start(t, tcp::socket(std::move(socket)), tls ? &tls->context() : nullptr,
                               h2c);
      continue;
    }
    std::unique_ptr<ClientConnection> connection(new (t) ClientConnection(t, std::move(socket)));
    ClientConnection::wait_for_request(std::move(connection), t.shared.cfg.timeouts.client_header);
  }
}

}  // namespace corral::proxy
