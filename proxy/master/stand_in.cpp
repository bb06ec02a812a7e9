#include "proxy/master/stand_in.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace corral::master {

namespace {

// Reads the request header (or what comes in a second), answers, and closes after the client
// had a moment to read the answer: closing with unread bytes would reset the connection and
// could lose the 503.
awaitable<void> answer(tcp::socket socket, std::shared_ptr<std::string> response) {
  asio::steady_timer deadline(socket.get_executor());
  deadline.expires_after(std::chrono::seconds(1));
  deadline.async_wait([&socket](error_code ec) {
    if (!ec) {
      error_code ignored;
      socket.cancel(ignored);
    }
  });
  std::array<char, 4096> chunk{};
  std::string seen;
  while (seen.find("\r\n\r\n") == std::string::npos && seen.size() < 16 * 1024) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), nothrow);
    if (ec) break;
    seen.append(chunk.data(), n);
  }
  deadline.cancel();
  deadline.expires_after(std::chrono::seconds(1));
  deadline.async_wait([&socket](error_code ec) {
    if (!ec) {
      error_code ignored;
      socket.cancel(ignored);
    }
  });
  auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(*response), nothrow);
  error_code ignored;
  if (!write_ec) {
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    for (;;) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), nothrow);
      if (ec) break;
    }
  }
  deadline.cancel();
  socket.close(ignored);
}

}  // namespace

void StandIn::start(const ListenerSet& listeners, std::string reason) {
  std::string body = reason + "\n";
  auto response = std::make_shared<std::string>(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + body);
  response_ = response;
  if (active()) return;
  auto add = [&](const proxy::BoundListener& bound) {
    for (int fd : bound.fds) {
      int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (copy < 0) continue;
      auto acceptor = std::make_shared<tcp::acceptor>(ioc_);
      error_code ec;
      acceptor->assign(bound.local.protocol(), copy, ec);
      if (ec) {
        ::close(copy);
        continue;
      }
      acceptors_.push_back(acceptor);
      asio::co_spawn(ioc_, accept_loop(acceptor), asio::detached);
    }
  };
  for (const auto& l : listeners.listeners) add(l.bound);
  if (listeners.admin) add(listeners.admin->bound);
}

void StandIn::stop() {
  for (auto& acceptor : acceptors_) {
    error_code ignored;
    acceptor->close(ignored);
  }
  acceptors_.clear();
}

awaitable<void> StandIn::accept_loop(std::shared_ptr<tcp::acceptor> acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(nothrow);
    if (!acceptor->is_open()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // The client went away before it was accepted, or too many open files: a moment's pause
      // so that an error that stays does not spin the master's loop.
      asio::steady_timer pause(ioc_, std::chrono::milliseconds(50));
      co_await pause.async_wait(nothrow);
      continue;
    }
    asio::co_spawn(ioc_, answer(std::move(socket), response_), asio::detached);
  }
}

}  // namespace corral::master
