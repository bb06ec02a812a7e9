#pragma once
// The proxy's end of the control socketpair to the master: reads JSON-line control messages,
// writes its own in order. Lives on the control thread.
#include <deque>
#include <functional>
#include <string>

#include <boost/asio/local/stream_protocol.hpp>

#include "proxy/asio.hpp"
#include "proxy/membership.hpp"

namespace corral::proxy {

class ControlChannel {
 public:
  using OnMessage = std::function<void(const ControlMessage&)>;
  using OnClose = std::function<void()>;

  ControlChannel(asio::io_context& ioc, int fd, OnMessage on_message, OnClose on_close);
  void start();
  void send(const ControlMessage& m);
  void close();
  // Nothing left to write.
  bool idle() const { return out_.empty() && !writing_; }

 private:
  awaitable<void> read_loop();
  awaitable<void> write_loop();

  asio::io_context& ioc_;
  asio::local::stream_protocol::socket socket_;
  OnMessage on_message_;
  OnClose on_close_;
  std::deque<std::string> out_;
  bool writing_ = false;
};

}  // namespace corral::proxy
