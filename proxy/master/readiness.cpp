#include "proxy/master/readiness.hpp"

namespace corral::master {

bool is_ready_message(const boost::json::value& message) {
  if (message.is_string()) return message.as_string() == "ready";
  if (!message.is_object()) return false;
  const boost::json::value* ready = message.as_object().if_contains("ready");
  return ready && ready->is_bool() && ready->as_bool();
}

awaitable<bool> wait_port_open(asio::io_context& ioc, std::uint16_t port,
                               Clock::time_point deadline, std::function<bool()> give_up) {
  const tcp::endpoint target(asio::ip::address_v4::loopback(), port);
  asio::steady_timer timer(ioc);
  while (!give_up() && Clock::now() < deadline) {
    tcp::socket socket(ioc);
    // A loopback connect is answered at once (accepted or refused); the timer only guards
    // against a port that someone firewalled into silence.
    timer.expires_after(std::chrono::milliseconds(500));
    timer.async_wait([&socket](error_code ec) {
      if (!ec) socket.close();
    });
    auto [ec] = co_await socket.async_connect(target, nothrow);
    timer.cancel();
    if (!ec) co_return true;
    timer.expires_after(std::chrono::milliseconds(25));
    co_await timer.async_wait(nothrow);
  }
  co_return false;
}

}  // namespace corral::master
