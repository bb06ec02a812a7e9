#pragma once
// The master's end of one worker's IPC channel: one JSON value per line both ways (Node's
// "json" serialization for NODE_CHANNEL_FD, and the protocol of docs/ipc.md). A worker that
// does not read its channel never blocks the master: what it does not take is queued up to a
// bound, then dropped and counted.
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "proxy/master/asio.hpp"

namespace corral::master {

// One worker's channel.
class IpcChannel : public std::enable_shared_from_this<IpcChannel> {
 public:
  using OnMessage = std::function<void(const boost::json::value&)>;

  static constexpr std::size_t max_queued_bytes = 1024 * 1024;
  static constexpr std::size_t max_line_bytes = 1024 * 1024;

  // Takes ownership of `fd`; `label` ("slot 0 pid 4242") names it in the log.
  IpcChannel(asio::io_context& ioc, int fd, std::string label);

  // Starts reading; `on_message` gets each JSON value the worker sends.
  void start(OnMessage on_message);
  // Queues `message`; false when it was dropped (queue full, or the channel is closed).
  bool send(const boost::json::value& message);
  void close();

  bool is_open() const { return open_; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t received() const { return received_; }

 private:
  awaitable<void> read_loop(OnMessage on_message);
  awaitable<void> write_loop();

  asio::local::stream_protocol::socket socket_;
  std::string label_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = true;
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t received_ = 0;
};

}  // namespace corral::master
