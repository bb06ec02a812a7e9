#include "proxy/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/error.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace corral::proxy {

namespace ssl = boost::asio::ssl;

TlsStream::TlsStream(tcp::socket& socket, ssl::context& context)
    : socket_(socket), ssl_(SSL_new(context.native_handle())) {
  if (!ssl_) throw std::bad_alloc();
  // Idle connections give OpenSSL's record buffers back; a write may complete one record at a
  // time (write_some) and be retried from another address with the same bytes.
  SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                         SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // No renegotiation: after the handshake a write never has to read, nor a read to wait for a
  // write of its own, which is what lets a read and a write run side by side.
  SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
  // Read what the socket has in one recv (several records), not each record's header apart.
  SSL_set_read_ahead(ssl_, 1);
  // OpenSSL reads and writes the descriptor itself: it must never block the thread.
  error_code ec;
  socket.non_blocking(true, ec);
  if (ec || SSL_set_fd(ssl_, socket.native_handle()) != 1) {
    SSL_free(ssl_);
    throw std::runtime_error("SSL_set_fd failed");
  }
  // Reads go through the filter that serves early bytes first; writes go to the socket's BIO.
  BIO* socket_bio = SSL_get_rbio(ssl_);
  BIO* filter = BIO_new(early_method());
  if (!filter || BIO_up_ref(socket_bio) != 1) {
    BIO_free(filter);
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_data(filter, this);
  BIO_set_init(filter, 1);
  BIO_push(filter, socket_bio);  // the filter holds the reference taken above
  SSL_set0_rbio(ssl_, filter);   // and the SSL gives back the one its old read BIO held
}

BIO_METHOD* TlsStream::early_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER, "corral early bytes");
    if (!m || BIO_meth_set_read_ex(m, &TlsStream::read_early) != 1 ||
        BIO_meth_set_ctrl(m, &TlsStream::control_early) != 1)
      throw std::runtime_error("OpenSSL cannot make a BIO method");
    return m;
  }();
  return method;
}

int TlsStream::read_early(BIO* b, char* out, std::size_t size, std::size_t* read) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (self->early_size_ != 0) {
    const std::size_t n = std::min(size, self->early_size_);
    std::memcpy(out, self->early_, n);
    self->early_ += n;
    self->early_size_ -= n;
    *read = n;
    return 1;
  }
  const int ret = BIO_read_ex(BIO_next(b), out, size, read);
  BIO_copy_next_retry(b);
  if (ret == 1) self->bytes_read_ += *read;
  return ret;
}

long TlsStream::control_early(BIO* b, int cmd, long num, void* ptr) {
  BIO* next = BIO_next(b);
  if (!next) return 0;
  if (cmd == BIO_CTRL_PENDING) {
    const auto* self = static_cast<const TlsStream*>(BIO_get_data(b));
    return static_cast<long>(self->early_size_) + BIO_ctrl(next, cmd, num, ptr);
  }
  // The end of the stream, flushes, kTLS queries and the rest are the socket BIO's.
  return BIO_ctrl(next, cmd, num, ptr);
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

void TlsStream::set_server_name(const std::string& server_name) {
  // An IP address is not sent as SNI (RFC 6066), but it is still what the certificate is
  // checked against.
  error_code not_an_address;
  static_cast<void>(asio::ip::make_address(server_name, not_an_address));
  if (not_an_address) SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  if (SSL_get_verify_mode(ssl_) == SSL_VERIFY_NONE) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  if (not_an_address) {
    // Whole names and a leftmost wildcard label, as Asio's host_name_verification checked.
    X509_VERIFY_PARAM_set_hostflags(param, 0);
    SSL_set1_host(ssl_, server_name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str());
  }
}

TlsStream::Next TlsStream::failed(int ret, error_code& ec) {
  const int saved_errno = errno;
  const int error = SSL_get_error(ssl_, ret);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return Next::want_read;
    case SSL_ERROR_WANT_WRITE:
      return Next::want_write;
    case SSL_ERROR_ZERO_RETURN:
      ec = asio::error::eof;  // the peer's close_notify
      return Next::done;
    case SSL_ERROR_SYSCALL: {
      // A socket error is the system's, as the socket itself would report it.
      const unsigned long queued = ERR_get_error();
      if (queued != 0 && ERR_GET_LIB(queued) == ERR_LIB_SYS)
        ec = error_code(ERR_GET_REASON(queued), boost::system::system_category());
      else if (saved_errno != 0)
        ec = error_code(saved_errno, boost::system::system_category());
      else if (queued != 0)
        ec = error_code(static_cast<int>(queued), asio::error::get_ssl_category());
      else
        ec = ssl::error::stream_truncated;  // end of file without close_notify
      return Next::done;
    }
    case SSL_ERROR_SSL: {
      const unsigned long queued = ERR_get_error();
      if (ERR_GET_LIB(queued) == ERR_LIB_SSL &&
          ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        ec = ssl::error::stream_truncated;
      else if (queued != 0)
        ec = error_code(static_cast<int>(queued), asio::error::get_ssl_category());
      else
        ec = ssl::error::unexpected_result;  // a session that failed before
      return Next::done;
    }
    default:
      ec = ssl::error::unexpected_result;
      return Next::done;
  }
}

namespace {

// SSL_get_error reads the thread's error queue, which must be empty before the call it explains.
// It nearly always is: looking costs a fraction of clearing its sixteen entries every time.
void clear_errors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

}  // namespace

TlsStream::Next TlsStream::read_once(asio::mutable_buffer b, error_code& ec, std::size_t& n) {
  clear_errors();
  errno = 0;
  const int ret = SSL_read_ex(ssl_, b.data(), b.size(), &n);
  if (ret == 1) {
    ec = {};
    return Next::done;
  }
  n = 0;
  return failed(ret, ec);
}

TlsStream::Next TlsStream::write_once(const void* data, std::size_t size, error_code& ec,
                                      std::size_t& n) {
  clear_errors();
  errno = 0;
  const int ret = SSL_write_ex(ssl_, data, size, &n);
  if (ret == 1) {
    ec = {};
    return Next::done;
  }
  n = 0;
  return failed(ret, ec);
}

char* TlsStream::scratch() {
  thread_local std::array<char, 16384> block;
  return block.data();
}

awaitable<error_code> TlsStream::handshake(ssl::stream_base::handshake_type side) {
  if (side == ssl::stream_base::client) SSL_set_connect_state(ssl_);
  else SSL_set_accept_state(ssl_);
  for (;;) {
    if (!socket_.is_open()) co_return asio::error::bad_descriptor;
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(ssl_);
    if (ret == 1) co_return error_code{};
    error_code ec;
    const Next next = failed(ret, ec);
    if (next == Next::done) {
      // A handshake cut by the peer is no clean end of anything.
      if (ec == asio::error::eof) ec = ssl::error::stream_truncated;
      co_return ec;
    }
    auto [wait_ec] = co_await socket_.async_wait(
        next == Next::want_read ? tcp::socket::wait_read : tcp::socket::wait_write, nothrow);
    if (wait_ec) co_return wait_ec;
  }
}

awaitable<error_code> TlsStream::send_close_notify() {
  // Marked as already received, SSL_shutdown only writes ours and completes.
  SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_RECEIVED_SHUTDOWN);
  for (;;) {
    if (!socket_.is_open()) co_return asio::error::bad_descriptor;
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_shutdown(ssl_);
    if (ret >= 0) co_return error_code{};
    error_code ec;
    const Next next = failed(ret, ec);
    if (next == Next::done) co_return ec;
    auto [wait_ec] = co_await socket_.async_wait(
        next == Next::want_read ? tcp::socket::wait_read : tcp::socket::wait_write, nothrow);
    if (wait_ec) co_return wait_ec;
  }
}

void TlsStream::try_close_notify() {
  if (!socket_.is_open()) return;
  SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_RECEIVED_SHUTDOWN);
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace corral::proxy
