#pragma once
// The listening sockets the master binds and holds for every proxy generation: since the
// master never closes them while it runs, a proxy that dies or is replaced never makes a
// client's connect fail; connections wait in the backlog for the next proxy.
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/listen_socket.hpp"

namespace corral::master {

// One listen address and its sockets (one per proxy thread).
struct HeldListener {
  std::string key;  // the address as written, and the thread count: what a reload compares
  proxy::BoundListener bound;
};

// Every socket a proxy generation accepts on.
struct ListenerSet {
  std::vector<HeldListener> listeners;
  std::optional<HeldListener> admin;

  std::vector<proxy::BoundListener> bound() const;
  std::vector<int> fds() const;
  // CORRAL_LISTEN_FDS and CORRAL_ADMIN_FD for the proxy.
  std::string listen_fds() const;
  std::string admin_fd() const;
};

// The proxy's thread count for `config` (threads: auto is one per core).
unsigned proxy_threads(const config::Config& config);

// Binds the sockets `config` asks for, sharing with `reuse` those of the same address and
// thread count (a reload keeps them, and with them any port 0 picked): the same descriptors
// then sit in both sets. Throws std::runtime_error naming an address that cannot be bound.
ListenerSet bind_listeners(const config::Config& config, const ListenerSet* reuse);

// Closes the master's copies of the sockets of `set` that `keep` does not share, and empties
// `set`.
void close_listeners(ListenerSet& set, const ListenerSet& keep = {});

}  // namespace corral::master
