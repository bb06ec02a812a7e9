#pragma once
// Accepts client connections on one of a proxy thread's acceptors and starts a session for
// each, refusing those over limits.max_connections.
#include "proxy/asio.hpp"

namespace corral::proxy {

class ProxyThread;
class ServerTls;

// `tls`: the listener's TLS contexts on this thread, or null for plain HTTP (`h2c`: which also
// takes HTTP/2 with prior knowledge).
awaitable<void> accept_loop(ProxyThread& thread, tcp::acceptor& acceptor, ServerTls* tls,
                            bool h2c);

}  // namespace corral::proxy
