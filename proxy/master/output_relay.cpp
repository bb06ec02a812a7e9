#include "proxy/master/output_relay.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>

namespace corral::master {
namespace {

constexpr std::size_t max_line = 64 * 1024;

void log_line(const std::string& prefix, bool is_stderr, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (is_stderr) {
    spdlog::info("[{} stderr] {}", prefix, line);
  } else {
    spdlog::info("[{}] {}", prefix, line);
  }
}

awaitable<void> relay(asio::posix::stream_descriptor stream, std::string prefix, bool is_stderr) {
  std::string buffer;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(stream, asio::dynamic_buffer(buffer, max_line),
                                                   '\n', nothrow);
    if (!ec) {
      log_line(prefix, is_stderr, std::string_view(buffer).substr(0, n - 1));
      buffer.erase(0, n);
      continue;
    }
    if (ec == asio::error::not_found) {  // a line longer than max_line: log what is there
      log_line(prefix, is_stderr, buffer);
      buffer.clear();
      continue;
    }
    if (!buffer.empty()) log_line(prefix, is_stderr, buffer);
    co_return;
  }
}

}  // namespace

void relay_output(asio::io_context& ioc, int fd, std::string prefix, bool is_stderr) {
  asio::co_spawn(ioc, relay(asio::posix::stream_descriptor(ioc, fd), std::move(prefix), is_stderr),
                 asio::detached);
}

}  // namespace corral::master
