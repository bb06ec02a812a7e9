#pragma once
// Listening sockets handed from the master to the proxy process across exec, described in the
// environment: CORRAL_LISTEN_FDS="127.0.0.1:8080=3,4;[::1]:8080=5,6" (one fd per proxy thread),
// CORRAL_ADMIN_FD="127.0.0.1:9901=7", CORRAL_CONTROL_FD=8 (the control socketpair).
#include <optional>
#include <string>
#include <vector>

#include "proxy/listen_socket.hpp"

namespace corral::proxy {

struct InheritedSockets {
  std::vector<BoundListener> listeners;
  std::optional<BoundListener> admin;
  int control_fd = -1;
};

// The value of CORRAL_LISTEN_FDS / CORRAL_ADMIN_FD for these listeners.
std::string describe_listeners(const std::vector<BoundListener>& listeners);

// Reads the three variables; nothing when CORRAL_LISTEN_FDS is unset. Throws
// std::runtime_error on a malformed value.
std::optional<InheritedSockets> inherited_from_env();

}  // namespace corral::proxy
