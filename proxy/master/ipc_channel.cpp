#include "proxy/master/ipc_channel.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace corral::master {

IpcChannel::IpcChannel(asio::io_context& ioc, int fd, std::string label)
    : socket_(ioc), label_(std::move(label)) {
  socket_.assign(asio::local::stream_protocol(), fd);
}

void IpcChannel::start(OnMessage on_message) {
  asio::co_spawn(socket_.get_executor(), read_loop(std::move(on_message)), asio::detached);
}

bool IpcChannel::send(const boost::json::value& message) {
  std::string line = boost::json::serialize(message);
  line.push_back('\n');
  if (!open_ || queued_bytes_ + line.size() > max_queued_bytes) {
    if (dropped_++ == 0 && open_) {
      spdlog::warn("[{}] IPC channel full: the worker does not read it; dropping messages", label_);
    }
    return false;
  }
  queued_bytes_ += line.size();
  queue_.push_back(std::move(line));
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(socket_.get_executor(), write_loop(), asio::detached);
  }
  return true;
}

void IpcChannel::close() {
  if (!open_) return;
  open_ = false;
  dropped_ += queue_.size();
  queue_.clear();
  queued_bytes_ = 0;
  error_code ignored;
  socket_.close(ignored);
}

awaitable<void> IpcChannel::write_loop() {
  auto self = shared_from_this();
  while (open_ && !queue_.empty()) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(queue_.front()), nothrow);
    if (ec) {
      close();
      break;
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    ++sent_;
  }
  writing_ = false;
}

awaitable<void> IpcChannel::read_loop(OnMessage on_message) {
  auto self = shared_from_this();
  std::string buffer;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(
        socket_, asio::dynamic_buffer(buffer, max_line_bytes), '\n', nothrow);
    if (ec == asio::error::not_found) {
      spdlog::warn("[{}] IPC message longer than {} bytes dropped", label_, max_line_bytes);
      buffer.clear();
      continue;
    }
    if (ec) break;
    std::string_view line = std::string_view(buffer).substr(0, n - 1);
    if (!line.empty()) {
      boost::system::error_code parse_error;
      boost::json::value message = boost::json::parse(line, parse_error);
      if (parse_error) {
        spdlog::warn("[{}] IPC line is not JSON: {}", label_, line.substr(0, 200));
      } else {
        ++received_;
        on_message(message);
      }
    }
    buffer.erase(0, n);
  }
  open_ = false;
}

}  // namespace corral::master
