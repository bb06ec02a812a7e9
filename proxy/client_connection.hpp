#pragma once
// One client connection between requests: its socket, its deadline and a few bytes. No
// coroutine, parser or buffer waits with it: a read of the next request's first bytes into
// first_bytes_ does, and when they arrive the connection is handed to a DownstreamSession taken
// from the thread's free list, which hands it back once the connection is idle again.
//
// A TLS connection between requests (HTTP/1.1, after a response) waits the same way with its
// stream instead (the socket and OpenSSL's SSL): its first bytes are read into first_bytes_ when
// the client's requests are small, else only the socket's readiness is waited for, and the
// session taken then continues with the same TLS state (OpenSSL reading those bytes first).
#include <array>
#include <chrono>
#include <memory>
#include <new>
#include <optional>

#include <boost/asio/ip/address.hpp>

#include "proxy/asio.hpp"
#include "proxy/drainable.hpp"
#include "proxy/idle_timeouts.hpp"
#include "proxy/socket_stream.hpp"

namespace corral::proxy {

class ProxyThread;

// A client socket bound to its thread's io_context: its executor is one pointer, not the
// type-erased any_io_executor, in the socket and in every operation on it.
using ClientSocket = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;

class ClientConnection final : public Drainable, public IdleTimeouts::Entry {
 public:
  using clock = std::chrono::steady_clock;
  // Enough for a plain request header (wrk's, a browser's small GET): read in one recv. A longer
  // header is read on in the session's block.
  static constexpr std::size_t first_read = 128;

  ClientConnection(ProxyThread& thread, ClientSocket socket);
  // A TLS connection handed over by its session once idle; `draining`: told to drain already;
  // `peer`: the client's address as the session knew it (none: unknown), kept for the next one.
  ClientConnection(ProxyThread& thread, std::unique_ptr<SocketStream> tls, bool draining,
                   const std::optional<boost::asio::ip::address>& peer);
  ~ClientConnection();  // closes the socket (a TLS one after a close_notify), unless handed over

  // Made with `new (thread) ClientConnection(thread, ...)`: its memory comes from the thread's
  // connection_memory, beside the other idle connections and not between a burst's transient
  // blocks in the heap, and goes back there when it is deleted.
  static void* operator new(std::size_t size, ProxyThread& thread);
  static void operator delete(void* p, ProxyThread& thread) noexcept;  // the constructor threw
  static void operator delete(ClientConnection* c, std::destroying_delete_t) noexcept;

  // Waits, with nothing but a pending read, for the next request's first bytes, at most
  // `timeout`; then serves them, or closes the connection (closed by the client, timed out).
  static void wait_for_request(std::unique_ptr<ClientConnection> c, clock::duration timeout);

  // Waits, with nothing but a pending read of its first bytes or the socket's readiness, for the
  // TLS connection's next request, at most `timeout`; then a session continues with its stream
  // (and those bytes), or the connection closes.
  static void wait_for_tls_request(std::unique_ptr<ClientConnection> c, clock::duration timeout);

  // The TLS stream, for the session that serves the next request: from now on the session
  // counts the connection, and this one closes nothing.
  std::unique_ptr<SocketStream> hand_over_tls();

  // The deadline of the connection `e` passed: its read is cancelled, and it closes.
  static void expire(IdleTimeouts::Entry& e);

  void drain() override;

  ClientSocket& socket() { return socket_; }
  ProxyThread& thread() { return t_; }
  // The TCP peer, if the socket could tell.
  const boost::asio::ip::address& peer() const { return peer_; }
  bool peer_known() const { return peer_known_; }
  bool draining() const { return draining_; }
  // No request read yet: the first one's header is due by deadline() (timeouts.client_header
  // from the accept), not client_header from its first byte.
  bool fresh() const { return fresh_; }
  void served() { fresh_ = false; }
  // How long an idle connection waits for the client once the proxy drains.
  static clock::duration drain_grace(clock::duration drain_timeout);

 private:
  ProxyThread& t_;
  ClientSocket socket_;
  boost::asio::ip::address peer_;
  bool peer_known_ = false;
  bool draining_ = false;
  bool fresh_ = true;
  bool busy_ = false;  // a session serves it (and reads draining())
  bool handed_over_ = false;  // its TLS stream went to a session
  std::unique_ptr<SocketStream> tls_;  // a TLS connection's stream (socket_ is then unused)
  std::array<char, first_read> first_bytes_;
};

}  // namespace corral::proxy
