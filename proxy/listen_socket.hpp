#pragma once
// Listening sockets: one per proxy thread for each listen address, all bound to the same port
// with SO_REUSEPORT so the kernel spreads connections across threads without a shared accept.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/asio.hpp"

namespace corral::proxy {

// The sockets of one listen address.
struct BoundListener {
  tcp::endpoint local;    // with the real port when the config said 0
  std::vector<int> fds;   // one per thread, listening, non-blocking, close-on-exec
};

// Binds `count` sockets to `address`; throws std::runtime_error with the address and reason.
BoundListener bind_listener(const config::Address& address, unsigned count, int backlog = 4096);

// "http://127.0.0.1:8080" or "http://[::1]:8080"; https:// for a TLS listener.
std::string url_of(const tcp::endpoint& ep, bool tls = false);

}  // namespace corral::proxy
