#include "proxy/socket_stream.hpp"

namespace corral::proxy {

void SocketStream::start_tls(ssl::context& context, const std::string& server_name) {
  tls_.emplace(socket_, context);
  tls_->set_server_name(server_name);
}

awaitable<error_code> SocketStream::handshake(ssl::stream_base::handshake_type side) {
  if (!tls_) co_return error_code{};
  co_return co_await tls_->handshake(side);
}

awaitable<void> SocketStream::close_notify() {
  error_code ignored;
  if (tls_) co_await tls_->send_close_notify();
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace corral::proxy
