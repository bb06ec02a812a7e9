#pragma once
// The server side of a TLS client's handshake, bounded by the caller's deadline (which cancels
// the socket). A plain HTTP request sent to the TLS port is answered with a plain 400 that says
// so, then closed, rather than left to hang or reset.
#include "proxy/asio.hpp"
#include "proxy/socket_stream.hpp"

namespace corral::proxy {

// True when the handshake completed and requests may be read.
awaitable<bool> accept_tls(SocketStream& client);

}  // namespace corral::proxy
