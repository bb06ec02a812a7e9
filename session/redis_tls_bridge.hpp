#pragma once
// TLS for a hiredis connection (hiredis 0.14 has none): hiredis connects to a private unix
// socket, and the bridge relays its bytes both ways through an asio::ssl::stream to Redis.
// hiredis's async API, the adapter and the pipelining stay as they are; the bridge adds one
// local copy per byte.
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "config/config.hpp"

namespace corral::session {

class RedisTlsBridge {
 public:
  RedisTlsBridge(boost::asio::io_context& ioc, const config::RedisTarget& target,
                 std::string connect_host, std::chrono::milliseconds connect_timeout);
  ~RedisTlsBridge();
  RedisTlsBridge(const RedisTlsBridge&) = delete;
  RedisTlsBridge& operator=(const RedisTlsBridge&) = delete;

  // Sets up the TLS context; false with `error` set when the CA file cannot be loaded.
  bool open(std::string& error);
  // Ends the relay of the previous connection, and listens for the next one on a fresh unix
  // socket in a private directory (0700), removed once the connection is accepted: call right
  // before hiredis connects to path(). The TLS connect and handshake to Redis must finish
  // within the connect timeout; when they fail, the hiredis side is closed and hiredis sees EOF.
  bool expect_connection(std::string& error);
  // The unix socket hiredis connects to, between expect_connection() and the accept.
  const std::string& path() const { return path_; }

 private:
  struct Relay;

  boost::asio::io_context& ioc_;
  const config::RedisTarget& target_;
  std::string connect_host_;
  std::chrono::milliseconds connect_timeout_;
  boost::asio::ssl::context tls_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::string dir_;
  std::string path_;
  std::shared_ptr<Relay> relay_;  // the current connection's
  std::string last_error_;        // logged once until it changes or a handshake succeeds

  void failed(const std::string& what);
  bool listen_once(std::string& error);
  void remove_socket();
};

}  // namespace corral::session
