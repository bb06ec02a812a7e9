#pragma once
// A client connection while it is busy: from the first bytes of a request until the connection
// is idle again (no bytes pipelined behind the last response) or closes. Reads requests, picks an
// upstream, relays each exchange. Owns its lifetime (shared_ptr held by its coroutine and its
// timer), as in Beast's examples; its memory comes from the thread's free list, and the idle
// connection (ClientConnection) is all that stays between busy periods.
//
// That is a plain HTTP/1.1 listener's connection. A connection on a TLS listener or on a plain
// one with h2c: true, and each HTTP/2 stream's pipe, is a SocketStream the session owns for the
// connection's whole life instead: it makes the handshake, looks for the HTTP/2 preface, and
// waits between requests itself; except an HTTP/1.1 connection on a TLS listener, whose stream
// waits between requests in a ClientConnection as a plain connection's socket does.
#include <array>
#include <chrono>
#include <memory>
#include <optional>

#include "balancer/slot.hpp"
#include "proxy/asio.hpp"
#include "proxy/client_address.hpp"
#include "proxy/client_connection.hpp"
#include "proxy/dispatch.hpp"
#include "proxy/dispatch_queue.hpp"
#include "proxy/exchange_outcome.hpp"
#include "proxy/free_list.hpp"
#include "proxy/gathered_buffers.hpp"
#include "proxy/h2/stream_responder.hpp"
#include "proxy/header_rewrite.hpp"
#include "proxy/request_context.hpp"
#include "proxy/request_guard.hpp"
#include "proxy/shared_session.hpp"
#include "proxy/socket_stream.hpp"
#include "proxy/upstream_wait.hpp"

namespace corral::proxy {

class ProxyThread;
struct UpstreamConnection;

// The client side of a session: the idle-capable connection's socket, or a SocketStream (TLS,
// an h2c listener's connection, an HTTP/2 stream's pipe). What Beast, the tunnel and the queue's
// client-gone check read and write; one branch per operation picks the one it is.
class ClientStream {
 public:
  using executor_type = asio::io_context::executor_type;

  ClientStream(executor_type ex, ClientSocket& socket) : ex_(ex), socket_(&socket) {}
  ClientStream(executor_type ex, SocketStream& stream) : ex_(ex), stream_(&stream) {}

  executor_type get_executor() const { return ex_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (socket_)
            socket_->async_read_some(b, std::move(handler));
          else
            stream_->async_read_some(b, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (socket_)
            socket_->async_write_some(GatheredBuffers(b), std::move(handler));
          else
            stream_->async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

  // wait_read: bytes to read, or (a pipe) the stream's end.
  template <class Token>
  auto async_wait(tcp::socket::wait_type w, Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this, w](auto handler) {
          if (socket_)
            socket_->async_wait(w, std::move(handler));
          else
            stream_->async_wait(w, std::move(handler));
        },
        token);
  }

  tcp::socket::native_handle_type native_handle() {
    return socket_ ? socket_->native_handle() : stream_->native_handle();
  }
  void cancel(error_code& ec) {
    if (socket_)
      socket_->cancel(ec);
    else
      stream_->cancel(ec);
  }
  void shutdown(tcp::socket::shutdown_type what, error_code& ec) {
    if (socket_)
      socket_->shutdown(what, ec);
    else
      stream_->shutdown(what, ec);
  }
  bool is_pipe() const { return stream_ && stream_->is_pipe(); }
  bool pipe_closed() const { return stream_ && stream_->pipe_closed(); }

 private:
  executor_type ex_;
  ClientSocket* socket_ = nullptr;
  SocketStream* stream_ = nullptr;
};

class DownstreamSession : public std::enable_shared_from_this<DownstreamSession>,
                          public Drainable,
                          private UpstreamWait {
 public:
  // Serves `connection` whose next request begins with `first_bytes`.
  static void start(std::unique_ptr<ClientConnection> connection, std::string_view first_bytes);
  // Serves a connection of a TLS listener (`tls`: its context on this thread) or of a plain
  // listener that also takes HTTP/2 with prior knowledge (`h2c`), for its whole life.
  static void start(ProxyThread& thread, tcp::socket socket, ssl::context* tls, bool h2c);
  // Serves the next requests of an idle TLS connection `connection`, whose socket is readable.
  static void resume_tls(std::unique_ptr<ClientConnection> connection, std::string_view early);

  DownstreamSession(ProxyThread& thread, std::unique_ptr<ClientConnection> connection);
  DownstreamSession(ProxyThread& thread, tcp::socket socket, ssl::context* tls, bool h2c);
  // An idle TLS connection's next requests; `peer` as the session before it knew it.
  DownstreamSession(ProxyThread& thread, std::unique_ptr<SocketStream> tls, bool draining,
                    const std::optional<boost::asio::ip::address>& peer);
  // One HTTP/2 stream of a client connection from `peer`, as an HTTP/1.1 request on `pipe`
  // whose head, `head`, is already there to read; answered through `responder`.
  DownstreamSession(ProxyThread& thread, h2::PipeEnd pipe, const tcp::endpoint& peer, bool secure,
                    std::string_view head, std::shared_ptr<h2::StreamResponder> responder);
  ~DownstreamSession();

  // A connection the session owns (TLS, h2c, a stream's pipe); the others are drained through
  // their ClientConnection.
  void drain() override;

 private:
  using clock = std::chrono::steady_clock;
  enum class Phase { idle, header, connect, send, wait_response, relay, tunnel };

  // A plain connection handed over by its ClientConnection, until it is idle again.
  awaitable<void> run();
  // A connection or stream the session owns, from its handshake to its close.
  awaitable<void> run_stream();
  awaitable<bool> read_request_header(bool first);
  // A plain connection opens with the HTTP/2 preface (peeked: nothing is read).
  awaitable<bool> h2_preface_follows();
  // Serves the connection as HTTP/2 (h2/h2_front), each stream on a session of its own.
  awaitable<void> serve_h2();
  // One request through the thread's stages (RequestChain) and dispatch (the queue, the
  // exchange, retries); false when the connection cannot go on.
  awaitable<bool> handle_request();
  // Sends the answer of the stage that stopped the request; whether the connection goes on.
  awaitable<bool> send_stage_answer();
  // Waits in the proxy's queue for a slot for dispatch_'s try, until timeouts.queue; the client
  // closing its connection takes it out. The step that follows, from Dispatch::on_wait.
  awaitable<DispatchStep> wait_in_queue();
  // One try on `slot`; `fresh` skips the pooled connections (after one turned out closed).
  awaitable<ExchangeOutcome> exchange(balancer::SlotId slot, bool& body_started,
                                      bool fresh = false);
  awaitable<ExchangeOutcome> send_request(UpstreamConnection& c, bool& body_started);
  awaitable<bool> relay_response(UpstreamConnection& c, bool upgrade);
  // The response's head and body to an HTTP/2 stream's responder, under its flow control;
  // the upstream connection back to the pool after a complete exchange when `reusable` (the
  // upstream's keep-alive, read before the hop-by-hop fields were removed).
  awaitable<void> relay_to_stream(UpstreamConnection& c, bool reusable);
  awaitable<void> tunnel(UpstreamConnection& c);
  // The request on dispatched_slot_ is over for the slot's in-flight count (answered, failed,
  // or turned into a tunnel).
  void end_dispatch();
  // The body relay buffer for this step: a pooled 4 KiB block when `small` (the body is known
  // to fit one), else a 64 KiB buffer; given back at the end of the request.
  char* relay_buffer(bool small);
  void give_back_relay();
  template <typename From, typename To>
  awaitable<void> pump(From& from, To& to, char* buf);
  // `extra_headers`: whole header lines, each ending in CRLF (e.g. Retry-After).
  awaitable<void> send_error(http::status status, std::string_view message, bool close,
                             std::string_view extra_headers = {});

  // UpstreamWait, for a stage that holds the request for its upstream: the thread's bell, the
  // connection's drain, this thread's address of a slot.
  awaitable<void> wait_for_change(clock::time_point deadline) override;
  bool connection_draining() const override { return draining(); }
  const tcp::endpoint& slot_endpoint(balancer::SlotId slot) const override;

  // Timeouts: one timer, re-armed only when a deadline moves earlier; expiry cancels the sockets.
  void arm(clock::duration d) { arm_at(clock::now() + d); }
  void arm_at(clock::time_point deadline);
  void disarm() { armed_ = false; }
  void on_timer(error_code ec);
  void cancel_io();
  clock::duration drain_grace() const;
  bool draining() const { return conn_ ? conn_->draining() : draining_; }
  void set_peer(const boost::asio::ip::address& peer, bool secure);

  ProxyThread& t_;
  std::unique_ptr<ClientConnection> conn_;  // handed back when the connection is idle
  std::unique_ptr<SocketStream> own_;  // or the session's own stream (TLS, h2c, a pipe)
  std::shared_ptr<h2::StreamResponder> stream_;  // an HTTP/2 stream's: where its answer goes
  ClientStream client_;
  beast::basic_flat_buffer<FreeListAllocator<char>> client_buf_;
  asio::steady_timer timer_;
  clock::time_point deadline_{};
  clock::time_point timer_at_{clock::time_point::max()};
  bool armed_ = false;
  bool expired_ = false;
  bool client_gone_ = false;  // closed by the client while its request waited in the queue
  // A connection the session owns: it is between requests (idle_), told to drain (draining_),
  // on a listener that takes HTTP/2 with prior knowledge (h2c_), speaking HTTP/2 (h2_front_).
  bool idle_ = false;
  bool draining_ = false;
  bool h2c_ = false;
  bool resumed_ = false;  // a TLS connection served before, its handshake made
  Drainable* h2_front_ = nullptr;
  Phase phase_ = Phase::idle;

  std::optional<http::request_parser<http::buffer_body, FieldAllocator<char>>> req_;
  std::optional<http::response_parser<http::buffer_body, FieldAllocator<char>>> res_;
  std::unique_ptr<UpstreamConnection> upstream_;

  // Per-request facts, reset for each request.
  char* relay_buf_ = nullptr;
  std::size_t relay_size_ = 0;
  bool head_ = false;
  std::optional<balancer::SlotId> dispatched_slot_;  // counted in flight there
  // The request's dispatch (its tries so far): in the session rather than in handle_request's
  // coroutine frame, which must stay within the 1,020 bytes that Asio's per-thread cache recycles.
  Dispatch dispatch_;
  RequestContext rq_;  // what the stages know of the request
  std::array<char, 46> client_ip_{};
  std::optional<boost::asio::ip::address> peer_;  // the TCP peer, handed on with an idle TLS connection
  bool readable_ = false;  // a resumed TLS session's socket was just reported readable
  // The first bytes an idle TLS connection read, until OpenSSL takes them (the first read).
  std::array<char, ClientConnection::first_read> tls_early_;
  std::string_view client_ip_view_;
  ForwardedClient forwarded_;  // the client as a trusted proxy reports it
};

}  // namespace corral::proxy
