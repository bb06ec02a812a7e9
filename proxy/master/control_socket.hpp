#pragma once
// The master's local control socket: a unix socket (mode 0600) that the CLI finds from the
// config file's path, so `corral status -c app.yaml` reaches the master of `corral run -c
// app.yaml`. One request per connection (control_protocol.hpp).
#include <boost/asio/local/stream_protocol.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "proxy/master/asio.hpp"
#include "proxy/master/control_protocol.hpp"

namespace corral::master {

// /tmp/corral-<16 hex digits>.sock, the digits a hash (FNV-1a, 64 bits) of the config file's
// absolute path with symbolic links resolved. CORRAL_CONTROL_SOCKET, when set, overrides it.
std::string control_socket_path(const std::string& config_path);

// Answers one command: progress lines while it runs, then one final line. Written to a CLI
// connection, or handed line by line to a sink (commands relayed by the proxy's admin listener).
class ControlReplies : public std::enable_shared_from_this<ControlReplies> {
 public:
  using Sink = std::function<void(std::string line)>;

  explicit ControlReplies(asio::local::stream_protocol::socket socket);
  explicit ControlReplies(Sink sink);

  void progress(const std::string& text);
  void success(const std::string& message, boost::json::object fields = {});
  void error(const std::string& text);
  bool finished() const { return finished_; }
  // Keeps the connection open after the final line, until the master exits (for `stop`).
  void keep_open() { keep_open_ = true; }

 private:
  void write(std::string line);
  awaitable<void> write_loop();

  std::optional<asio::local::stream_protocol::socket> socket_;
  Sink sink_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool finished_ = false;
  bool keep_open_ = false;
};

// The master's end: accepts connections and runs `handler` for each request.
class ControlServer {
 public:
  using Handler = std::function<awaitable<void>(ControlRequest, std::shared_ptr<ControlReplies>)>;

  // Binds `path`. Throws std::runtime_error when a master already answers there, or the socket
  // cannot be made; a stale socket file left by a dead master is replaced.
  ControlServer(asio::io_context& ioc, std::string path, Handler handler);
  ~ControlServer();

  void start();
  // Stops accepting and removes the socket file.
  void close();
  const std::string& path() const { return path_; }

 private:
  awaitable<void> accept_loop();
  awaitable<void> serve(asio::local::stream_protocol::socket socket);

  asio::io_context& ioc_;
  std::string path_;
  Handler handler_;
  asio::local::stream_protocol::acceptor acceptor_;
  bool closed_ = false;
};

}  // namespace corral::master
