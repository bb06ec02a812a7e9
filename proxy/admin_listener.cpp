#include "proxy/admin_listener.hpp"

namespace corral::proxy {

AdminListener::AdminListener(asio::io_context& ioc, int fd, const tcp::endpoint& local,
                             AdminHandler handler)
    : ioc_(ioc), acceptor_(ioc), handler_(std::move(handler)) {
  acceptor_.assign(local.protocol(), fd);
}

void AdminListener::start() { asio::co_spawn(ioc_, accept_loop(), asio::detached); }

void AdminListener::close() {
  error_code ec;
  acceptor_.close(ec);
}

awaitable<void> AdminListener::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> AdminListener::serve(tcp::socket socket) {
  error_code peer_ec;
  const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
  if (peer_ec) co_return;
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
    if (ec) co_return;
    auto req = parser.release();
    stream.expires_never();  // a rolling restart may take minutes
    AdminResponse res = co_await handler_(req, peer);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(30));
    auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
    if (wec || !req.keep_alive()) break;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

AdminResponse text_response(const AdminRequest& req, http::status status, std::string body,
                            std::string_view content_type) {
  AdminResponse res{status, req.version()};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  return res;
}

}  // namespace corral::proxy
