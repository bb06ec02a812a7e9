#include "proxy/control_channel.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace corral::proxy {

ControlChannel::ControlChannel(asio::io_context& ioc, int fd, OnMessage on_message, OnClose on_close)
    : ioc_(ioc), socket_(ioc), on_message_(std::move(on_message)), on_close_(std::move(on_close)) {
  socket_.assign(asio::local::stream_protocol(), fd);
}

void ControlChannel::start() { asio::co_spawn(ioc_, read_loop(), asio::detached); }

void ControlChannel::close() {
  error_code ec;
  socket_.close(ec);
}

void ControlChannel::send(const ControlMessage& m) {
  out_.push_back(encode(m));
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(ioc_, write_loop(), asio::detached);
  }
}

awaitable<void> ControlChannel::write_loop() {
  while (!out_.empty()) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_.front()), nothrow);
    if (ec) {
      out_.clear();
      break;
    }
    out_.pop_front();
  }
  writing_ = false;
}

awaitable<void> ControlChannel::read_loop() {
  std::string buffer;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(socket_, asio::dynamic_buffer(buffer, 1 << 20), '\n', nothrow);
    if (ec) break;
    std::string_view line(buffer.data(), n - 1);
    if (auto m = decode(line)) on_message_(*m);
    else spdlog::warn("control channel: ignored a malformed message");
    buffer.erase(0, n);
  }
  if (on_close_) on_close_();
}

}  // namespace corral::proxy
