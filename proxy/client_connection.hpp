#pragma once
// One client connection between requests: its socket, its deadline and a few bytes. No
// coroutine, parser or buffer waits with it: a read of the next request's first bytes into
// first_bytes_ does, and when they arrive the connection is handed to a DownstreamSession taken
// from the thread's free list, which hands it back once the connection is idle again.
#include <array>
#include <chrono>
#include <memory>

#include <boost/asio/ip/address.hpp>

#include "proxy/asio.hpp"
#include "proxy/drainable.hpp"
#include "proxy/idle_timeouts.hpp"

namespace corral::proxy {

class ProxyThread;
class DownstreamSession;

class ClientConnection final : public Drainable, public IdleTimeouts::Entry {
 public:
  using clock = std::chrono::steady_clock;
  // Enough for a plain request header (wrk's, a browser's small GET): read in one recv. A longer
  // header is read on in the session's block.
  static constexpr std::size_t first_read = 128;

  ClientConnection(ProxyThread& thread, tcp::socket socket);
  ~ClientConnection();  // closes the socket

  // Waits, with nothing but a pending read, for the next request's first bytes, at most
  // `timeout`; then serves them, or closes the connection (closed by the client, timed out).
  static void wait_for_request(std::unique_ptr<ClientConnection> c, clock::duration timeout);

  void drain() override;
  void expire() override;

  tcp::socket& socket() { return socket_; }
  ProxyThread& thread() { return t_; }
  // The TCP peer, if the socket could tell.
  const boost::asio::ip::address& peer() const { return peer_; }
  bool peer_known() const { return peer_known_; }
  bool draining() const { return draining_; }
  // No request read yet: the first one's header is due by deadline() (timeouts.client_header
  // from the accept), not client_header from its first byte.
  bool fresh() const { return fresh_; }
  void served() { fresh_ = false; }
  // The session serving this connection's request, told of a drain.
  void attach(DownstreamSession* s) { session_ = s; }
  // How long an idle connection waits for the client once the proxy drains.
  static clock::duration drain_grace(clock::duration drain_timeout);

 private:
  ProxyThread& t_;
  tcp::socket socket_;
  DownstreamSession* session_ = nullptr;
  boost::asio::ip::address peer_;
  bool peer_known_ = false;
  bool draining_ = false;
  bool fresh_ = true;
  std::array<char, first_read> first_bytes_;
};

}  // namespace corral::proxy
