#pragma once
// TLS over a non-blocking TCP socket, OpenSSL reading and writing the socket's descriptor itself
// (SSL_set_fd): no memory BIO pair and no copy buffers of its own, so an idle connection holds
// only its SSL (whose record buffers SSL_MODE_RELEASE_BUFFERS gives back). Each operation tries
// OpenSSL first and waits for the socket's readiness only when OpenSSL asks (WANT_READ,
// WANT_WRITE), then tries again.
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include <cstddef>
#include <string>

#include "proxy/asio.hpp"
#include "proxy/gathered_buffers.hpp"

namespace corral::proxy {

// One TLS session on a socket the caller owns (and keeps in place while this lives). One read
// and one write may be outstanding at once, from two coroutines of the socket's thread; the
// socket's cancel() ends their waits with operation_aborted.
//
// Errors, as Asio's ssl::stream reports them, which the request path and the tunnel expect:
// the peer's close_notify is asio::error::eof; a peer that closes the TCP connection without it
// is ssl::error::stream_truncated; socket errors are the system's (connection_reset, ...);
// protocol errors are OpenSSL's packed error in asio::error::get_ssl_category().
class TlsStream {
 public:
  // A session of `context` on `socket`; the handshake is still to be made.
  TlsStream(tcp::socket& socket, boost::asio::ssl::context& context);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  using executor_type = tcp::socket::executor_type;
  executor_type get_executor() { return socket_.get_executor(); }
  SSL* native_handle() { return ssl_; }

  // Bytes of the socket read before OpenSSL asked for them (an idle connection's first read):
  // OpenSSL's next reads take them before the socket's. They stay where they are, unowned,
  // until then. The caller gives none while has_pending().
  void give_early(const char* data, std::size_t size) {
    early_ = data;
    early_size_ = size;
    bytes_read_ += size;
  }
  // Decrypted bytes or records OpenSSL holds, or early bytes it has not taken: a read now
  // would not wait for the socket.
  bool has_pending() const { return early_size_ != 0 || SSL_has_pending(ssl_); }
  // The bytes read from the socket (early ones included) since the last count_from_zero().
  std::size_t bytes_read() const { return bytes_read_; }
  void count_from_zero() { bytes_read_ = 0; }

  // Client side: sends `server_name` as SNI (unless it is an IP address) and, when the context
  // verifies peers, checks the certificate against it (DNS name or IP address).
  void set_server_name(const std::string& server_name);

  // The handshake, as the side given.
  awaitable<error_code> handshake(boost::asio::ssl::stream_base::handshake_type side);
  // Sends close_notify and returns once it is written, without waiting for the peer's.
  awaitable<error_code> send_close_notify();
  // Sends close_notify if the socket takes it at once; never waits (for a connection closed
  // while idle, whose send buffer is empty).
  void try_close_notify();

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    const asio::mutable_buffer b = first_buffer(buffers);
    return asio::async_compose<Token, void(error_code, std::size_t)>(
        Op<Read, asio::mutable_buffer>{this, b}, token, socket_);
  }

  // Small gathered buffers (an HTTP header's pieces and the body behind them) go out as one
  // record: they are copied into one scratch block of the thread first. A large first buffer is
  // written from where it is.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(error_code, std::size_t)>(
        Op<Write, GatheredBuffers>{this, GatheredBuffers(buffers)}, token, socket_);
  }

 private:
  // What one attempt of an operation came to.
  enum class Next { done, want_read, want_write };
  struct Read {};
  struct Write {};

  // One attempt at each operation; `ec` and `n` are set when it is done.
  Next read_once(asio::mutable_buffer b, error_code& ec, std::size_t& n);
  Next write_once(const void* data, std::size_t size, error_code& ec, std::size_t& n);
  template <class ConstBuffers>
  Next write_once(const ConstBuffers& buffers, error_code& ec, std::size_t& n);
  // The outcome of an OpenSSL call that returned `ret` (<= 0): wait, or the error it ends with.
  Next failed(int ret, error_code& ec);
  static char* scratch();

  template <class MutableBuffers>
  static asio::mutable_buffer first_buffer(const MutableBuffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      if (asio::mutable_buffer b = *it; b.size() > 0) return b;
    }
    return {};
  }

  // A read or write: tries, waits for readiness when OpenSSL asks, tries again. A result ready
  // at the first try is posted, not delivered inside the initiating call.
  template <class Kind, class Buffers>
  struct Op {
    TlsStream* self;
    Buffers buffers;
    error_code ec{};
    std::size_t n = 0;
    bool started = false;
    bool finished = false;

    template <class Self>
    void operator()(Self& op, error_code wait_ec = {}) {
      if (finished) {
        op.complete(ec, n);
        return;
      }
      const bool first = !started;
      started = true;
      if (wait_ec) {
        op.complete(wait_ec, 0);
        return;
      }
      Next next;
      if (!self->socket_.is_open()) {
        // Closed: its descriptor's number may be another connection's by now.
        ec = asio::error::bad_descriptor;
        next = Next::done;
      } else if constexpr (std::is_same_v<Kind, Read>) {
        if (buffers.size() == 0) next = Next::done;
        else next = self->read_once(buffers, ec, n);
      } else {
        next = self->write_once(buffers, ec, n);
      }
      switch (next) {
        case Next::want_read:
          self->socket_.async_wait(tcp::socket::wait_read, std::move(op));
          return;
        case Next::want_write:
          self->socket_.async_wait(tcp::socket::wait_write, std::move(op));
          return;
        case Next::done:
          break;
      }
      if (!first) {
        op.complete(ec, n);
        return;
      }
      finished = true;
      auto ex = self->socket_.get_executor();
      asio::post(ex, std::move(op));
    }
  };

  // OpenSSL's read side: a filter over the socket's BIO that hands out early_ first.
  static int read_early(BIO* b, char* out, std::size_t size, std::size_t* read);
  static long control_early(BIO* b, int cmd, long num, void* ptr);
  static BIO_METHOD* early_method();

  tcp::socket& socket_;
  SSL* ssl_;
  const char* early_ = nullptr;
  std::size_t early_size_ = 0;
  std::size_t bytes_read_ = 0;
};

template <class ConstBuffers>
TlsStream::Next TlsStream::write_once(const ConstBuffers& buffers, error_code& ec,
                                      std::size_t& n) {
  constexpr std::size_t record = 16384;  // the most plaintext one TLS record carries
  auto it = asio::buffer_sequence_begin(buffers);
  const auto end = asio::buffer_sequence_end(buffers);
  while (it != end && asio::const_buffer(*it).size() == 0) ++it;
  if (it == end) {
    n = 0;
    return Next::done;
  }
  const asio::const_buffer head = *it;
  if (head.size() >= record || std::next(it) == end) return write_once(head.data(), head.size(), ec, n);
  // Gathered afresh on a retry: the same bytes, which is what OpenSSL asks of a retried write
  // (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets them be at another address).
  char* block = scratch();
  std::size_t size = 0;
  for (; it != end && size < record; ++it) {
    const asio::const_buffer b = *it;
    size += asio::buffer_copy(asio::buffer(block + size, record - size), b);
  }
  return write_once(block, size, ec, n);
}

}  // namespace corral::proxy
