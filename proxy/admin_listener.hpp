#pragma once
// The admin HTTP listener (/healthz, /readyz, /metrics, /admin/*): small, on the control
// thread, one request at a time per connection. Routing is left to the handler, which may take
// its time (an admin command waits for the master).
#include <functional>

#include "proxy/asio.hpp"

namespace corral::proxy {

using AdminRequest = http::request<http::string_body>;
using AdminResponse = http::response<http::string_body>;
using AdminHandler =
    std::function<awaitable<AdminResponse>(const AdminRequest&, const tcp::endpoint& peer)>;

class AdminListener {
 public:
  AdminListener(asio::io_context& ioc, int fd, const tcp::endpoint& local, AdminHandler handler);
  void start();
  void close();

 private:
  awaitable<void> accept_loop();
  awaitable<void> serve(tcp::socket socket);

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  AdminHandler handler_;
};

// A plain-text answer.
AdminResponse text_response(const AdminRequest& req, http::status status, std::string body,
                            std::string_view content_type = "text/plain; charset=utf-8");

}  // namespace corral::proxy
