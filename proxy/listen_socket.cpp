#include "proxy/listen_socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "proxy/shared_state.hpp"

namespace corral::proxy {

namespace {

int bind_one(const tcp::endpoint& ep, int backlog, const std::string& text) {
  int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("cannot create a socket for " + text + ": " + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (ep.protocol() == tcp::v6()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0 || ::listen(fd, backlog) != 0) {
    auto err = errno;
    ::close(fd);
    throw std::runtime_error("cannot listen on " + text + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace

BoundListener bind_listener(const config::Address& address, unsigned count, int backlog) {
  BoundListener out;
  out.local = resolve_address(address);
  for (unsigned i = 0; i < count; ++i) {
    int fd = bind_one(out.local, backlog, address.text);
    out.fds.push_back(fd);
    if (i == 0 && out.local.port() == 0) {
      // Port 0: the kernel chose; the other threads' sockets join that port.
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      out.local.resize(len);
      std::memcpy(out.local.data(), &ss, len);
    }
  }
  return out;
}

std::string url_of(const tcp::endpoint& ep, bool tls) {
  auto a = ep.address();
  std::string url = tls ? "https://" : "http://";
  if (a.is_v6()) {
    url += '[';
    url += a.to_string();
    url += ']';
  } else {
    url += a.to_string();
  }
  url += ':';
  url += std::to_string(ep.port());
  return url;
}

}  // namespace corral::proxy
