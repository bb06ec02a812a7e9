#include "proxy/socket_stream.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl/host_name_verification.hpp>

namespace corral::proxy {

void SocketStream::start_tls(ssl::context& context, const std::string& server_name) {
  tls_.emplace(socket_, context);
  SSL* ssl = tls_->native_handle();
  // An IP address is not sent as SNI (RFC 6066), but it is still what the certificate is
  // checked against.
  error_code not_an_address;
  static_cast<void>(asio::ip::make_address(server_name, not_an_address));
  if (not_an_address) SSL_set_tlsext_host_name(ssl, server_name.c_str());
  if (SSL_CTX_get_verify_mode(context.native_handle()) != SSL_VERIFY_NONE)
    tls_->set_verify_callback(ssl::host_name_verification(server_name));
}

awaitable<error_code> SocketStream::handshake(ssl::stream_base::handshake_type side) {
  if (!tls_) co_return error_code{};
  auto [ec] = co_await tls_->async_handshake(side, nothrow);
  co_return ec;
}

awaitable<void> SocketStream::close_notify() {
  error_code ignored;
  if (tls_) {
    // Marked as already received, SSL_shutdown only writes ours and completes.
    SSL_set_shutdown(tls_->native_handle(), SSL_RECEIVED_SHUTDOWN);
    co_await tls_->async_shutdown(nothrow);
  }
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace corral::proxy
