#pragma once
// A connection's byte stream: a TCP socket, or TLS over it (the clients of a TLS listener, a TLS
// upstream), or one HTTP/2 stream's pipe (h2/stream_pipe: the stream's request as HTTP/1.1).
// Beast's readers and writers and the tunnel's relay use it the same way either way.
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "proxy/asio.hpp"
#include "proxy/gathered_buffers.hpp"
#include "proxy/h2/stream_pipe.hpp"
#include "proxy/tls_stream.hpp"

namespace corral::proxy {

namespace ssl = boost::asio::ssl;

class SocketStream {
 public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket;

  explicit SocketStream(asio::io_context& ioc) : socket_(ioc) {}
  explicit SocketStream(tcp::socket socket) : socket_(std::move(socket)) {}
  // TLS over `socket` with a session of `context`; the handshake is still to be done.
  SocketStream(tcp::socket socket, ssl::context& context) : socket_(std::move(socket)) {
    tls_.emplace(socket_, context);
  }
  // TLS when `context` is given, else plain TCP.
  SocketStream(tcp::socket socket, ssl::context* context) : socket_(std::move(socket)) {
    if (context) tls_.emplace(socket_, *context);
  }
  // tls_ works on socket_.
  SocketStream(const SocketStream&) = delete;
  SocketStream& operator=(const SocketStream&) = delete;

  // One HTTP/2 stream of a connection from `peer` (over TLS when `secure`).
  SocketStream(asio::io_context& ioc, h2::PipeEnd pipe, tcp::endpoint peer, bool secure)
      : socket_(ioc), pipe_(new Pipe{std::move(pipe), peer, secure}) {}

  // Client side, once connected: TLS with a session of `context`, sending `server_name` (SNI)
  // and, when the context verifies, checking the certificate against it.
  void start_tls(ssl::context& context, const std::string& server_name);

  // TLS on this stream's own socket (a handshake to make, a close_notify to send).
  bool is_tls() const { return tls_.has_value(); }
  // The client's connection is encrypted: its own TLS, or the HTTP/2 connection it came on.
  bool secure() const { return tls_.has_value() || (pipe_ && pipe_->secure); }
  bool is_pipe() const { return pipe_ != nullptr; }
  // Pipe only: the client finished or reset the stream (a socket answers with recv instead).
  bool pipe_closed() const { return pipe_ && pipe_->end.peer_closed() && !pipe_->end.available(); }
  // TLS only: the session (for what ALPN agreed).
  TlsStream& tls() { return *tls_; }
  tcp::socket& socket() { return socket_; }
  tcp::socket& lowest_layer() { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (pipe_)
            pipe_->end.async_read_some(b, std::move(handler));
          else if (tls_)
            tls_->async_read_some(b, std::move(handler));
          else
            socket_.async_read_some(b, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (pipe_)
            pipe_->end.async_write_some(b, std::move(handler));
          else if (tls_)
            tls_->async_write_some(b, std::move(handler));
          else
            socket_.async_write_some(GatheredBuffers(b), std::move(handler));
        },
        token, buffers);
  }

  // TLS: the handshake (the side given); plain TCP: nothing to do.
  awaitable<error_code> handshake(ssl::stream_base::handshake_type side);
  // TLS: sends close_notify without waiting for the peer's (as nginx does); then, as on plain
  // TCP, shuts the sending side. Errors are ignored: the connection is ending.
  awaitable<void> close_notify();

  // The socket's own operations, for code that only needs the TCP layer.
  template <class Token>
  auto async_connect(const tcp::endpoint& ep, Token&& token) {
    return socket_.async_connect(ep, std::forward<Token>(token));
  }
  // wait_read only on a pipe: bytes to read, or the stream's end.
  template <class Token>
  auto async_wait(tcp::socket::wait_type w, Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this, w](auto handler) {
          if (pipe_)
            pipe_->end.async_wait_readable(
                [h = std::move(handler)](error_code ec, std::size_t) mutable { std::move(h)(ec); });
          else
            socket_.async_wait(w, std::move(handler));
        },
        token);
  }
  tcp::socket::native_handle_type native_handle() { return socket_.native_handle(); }
  tcp::endpoint remote_endpoint(error_code& ec) const {
    if (pipe_) return pipe_->peer;
    return socket_.remote_endpoint(ec);
  }
  template <class Option>
  void set_option(const Option& o, error_code& ec) {
    if (!pipe_) socket_.set_option(o, ec);
  }
  void cancel(error_code& ec) {
    if (pipe_) pipe_->end.cancel();
    else socket_.cancel(ec);
  }
  // On a pipe, shutting either way ends the request path's side: what it wrote stays readable.
  void shutdown(tcp::socket::shutdown_type what, error_code& ec) {
    if (pipe_) pipe_->end.shutdown_send();
    else socket_.shutdown(what, ec);
  }
  void close(error_code& ec) {
    if (pipe_) pipe_->end.shutdown_send();
    else socket_.close(ec);
  }
  bool is_open() const { return pipe_ ? pipe_->end.is_open() : socket_.is_open(); }

 private:
  tcp::socket socket_;
  std::optional<TlsStream> tls_;
  // An HTTP/2 stream's pipe, the connection's peer and whether it is TLS; held apart so that
  // a socket's stream pays one pointer for it.
  struct Pipe {
    h2::PipeEnd end;
    tcp::endpoint peer;
    bool secure;
  };
  std::unique_ptr<Pipe> pipe_;
};

}  // namespace corral::proxy
