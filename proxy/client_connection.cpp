#include "proxy/client_connection.hpp"

#include <cstring>

#include <boost/asio/bind_allocator.hpp>

#include "proxy/downstream_session.hpp"
#include "proxy/proxy_thread.hpp"

namespace corral::proxy {

ClientConnection::ClientConnection(ProxyThread& thread, ClientSocket socket)
    : t_(thread), socket_(std::move(socket)) {
  error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    peer_ = ep.address();
    peer_known_ = true;
  }
  socket_.set_option(tcp::no_delay(true), ec);
  t_.attach(*this);
}

ClientConnection::ClientConnection(ProxyThread& thread, std::unique_ptr<SocketStream> tls,
                                   bool draining,
                                   const std::optional<boost::asio::ip::address>& peer)
    : t_(thread), socket_(thread.ioc), draining_(draining), fresh_(false), tls_(std::move(tls)) {
  if (peer) {
    peer_ = *peer;
    peer_known_ = true;
  }
  t_.attach(*this);
}

void* ClientConnection::operator new(std::size_t size, ProxyThread& thread) {
  return thread.connection_memory.take(size);
}

void ClientConnection::operator delete(void* p, ProxyThread& thread) noexcept {
  thread.connection_memory.give_back(p, sizeof(ClientConnection));
}

void ClientConnection::operator delete(ClientConnection* c, std::destroying_delete_t) noexcept {
  ProxyThread& thread = c->t_;
  c->~ClientConnection();
  thread.connection_memory.give_back(c, sizeof(ClientConnection));
}

ClientConnection::~ClientConnection() {
  if (handed_over_) return;  // its session counts the connection now
  error_code ec;
  if (tls_) {
    // As a session closing an idle TLS connection does: close_notify, which an idle socket's
    // empty send buffer takes at once (if not, the connection closes without it).
    tls_->tls().try_close_notify();
    tls_->shutdown(tcp::socket::shutdown_send, ec);
    tls_->close(ec);
  }
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  socket_.close(ec);
  t_.detach(*this);
  t_.metrics.connections_closed.add();
  t_.shared.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

ClientConnection::clock::duration ClientConnection::drain_grace(clock::duration drain_timeout) {
  return std::min<clock::duration>(drain_timeout, std::chrono::seconds(1));
}

void ClientConnection::wait_for_request(std::unique_ptr<ClientConnection> c,
                                        clock::duration timeout) {
  ClientConnection& conn = *c;
  conn.busy_ = false;
  conn.t_.idle.add(conn, timeout);
  // A read, not async_wait(wait_read): Asio re-arms the descriptor with epoll_ctl for every
  // wait, while a read stays registered.
  // The operation's memory comes from the thread's free list for exactly its size: from Asio's
  // recycling cache it would take whatever block is cached, often several times as large, and
  // keep it for as long as the connection is idle.
  auto buffer = asio::buffer(conn.first_bytes_);
  FreeListAllocator<void> memory(conn.t_.idle_reads);
  conn.socket_.async_read_some(
      buffer, asio::bind_allocator(memory, [c = std::move(c)](error_code ec, std::size_t n) mutable {
        IdleTimeouts::remove(*c);
        // Closed or reset by the client, or cancelled by the deadline: c closes as it goes.
        if (ec || n == 0) return;
        c->busy_ = true;
        auto* bytes = c->first_bytes_.data();
        DownstreamSession::start(std::move(c), std::string_view(bytes, n));
      }));
}

void ClientConnection::wait_for_tls_request(std::unique_ptr<ClientConnection> c,
                                            clock::duration timeout) {
  ClientConnection& conn = *c;
  conn.busy_ = false;
  conn.t_.idle.add(conn, timeout);
  TlsStream& tls = conn.tls_->tls();
  // What the client sent since the last wait says how it will likely go on. Requests that fit
  // in first_bytes_ are read there, as a plain connection's: a short read leaves the socket
  // drained as Asio's reactor knows, so that the next read is registered without a syscall,
  // where a readiness wait re-arms the descriptor (epoll_ctl) every time. Larger ones are
  // waited for: a full first read would leave the rest to OpenSSL and Asio none the wiser,
  // and then its next read's first try costs what the re-arming would.
  const bool small = tls.bytes_read() < first_read;
  tls.count_from_zero();
  if (small) {
    // The bytes are TLS records: the session gives them to OpenSSL ahead of the socket's.
    FreeListAllocator<void> memory(conn.t_.idle_tls_reads);
    conn.tls_->socket().async_read_some(
        asio::buffer(conn.first_bytes_),
        asio::bind_allocator(memory, [c = std::move(c)](error_code ec, std::size_t n) mutable {
          IdleTimeouts::remove(*c);
          // Closed or reset by the client, or cancelled by the deadline: c closes as it goes.
          if (ec || n == 0) return;
          c->busy_ = true;
          auto* bytes = c->first_bytes_.data();
          DownstreamSession::resume_tls(std::move(c), std::string_view(bytes, n));
        }));
    return;
  }
  // A readiness wait, not a read: OpenSSL reads the records into the session's block once a
  // session serves them. (The caller saw has_pending() false: OpenSSL holds no bytes that the
  // socket's readiness would not announce.) Its memory, as an idle read's, comes from the
  // thread's free list for exactly its size.
  FreeListAllocator<void> memory(conn.t_.idle_waits);
  conn.tls_->socket().async_wait(
      tcp::socket::wait_read,
      asio::bind_allocator(memory, [c = std::move(c)](error_code ec) mutable {
        IdleTimeouts::remove(*c);
        // Cancelled by the deadline, or the socket failed: c closes as it goes. A client that
        // closed is seen by the session's read (its close_notify, or the end of the stream).
        if (ec) return;
        c->busy_ = true;
        DownstreamSession::resume_tls(std::move(c), {});
      }));
}

std::unique_ptr<SocketStream> ClientConnection::hand_over_tls() {
  handed_over_ = true;
  t_.detach(*this);
  return std::move(tls_);
}

void ClientConnection::expire(IdleTimeouts::Entry& e) {
  error_code ec;
  auto& c = static_cast<ClientConnection&>(e);
  if (c.tls_) c.tls_->cancel(ec);
  else c.socket_.cancel(ec);
}

void ClientConnection::drain() {
  draining_ = true;
  // A busy connection's session reads draining() after each response.
  if (busy_) return;
  // An idle keep-alive connection gets a short grace instead of an immediate close: a client
  // may be sending its next request right now, and that request is served (with
  // Connection: close) rather than lost to the close race. Silent ones close after the grace.
  const auto grace = drain_grace(t_.shared.cfg.timeouts.drain);
  if (waiting() && clock::now() + grace < deadline()) t_.idle.add(*this, grace);
}

}  // namespace corral::proxy
