#include "proxy/tls_accept.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <string_view>

namespace corral::proxy {

awaitable<bool> accept_tls(SocketStream& client) {
  const error_code ec = co_await client.handshake(ssl::stream_base::server);
  if (!ec) co_return true;
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST) {
    static constexpr std::string_view answer =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 38\r\nConnection: close\r\n\r\n"
        "plain HTTP request sent to a TLS port\n";
    static_assert(answer.size() - answer.find("\r\n\r\n") - 4 == 38);
    co_await asio::async_write(client.socket(), asio::buffer(answer), nothrow);
  }
  co_return false;
}

}  // namespace corral::proxy
