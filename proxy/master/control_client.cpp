#include "proxy/master/control_client.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/master/control_socket.hpp"

namespace corral::master {

ControlCall call_master(const std::string& config_path, const ControlRequest& request,
                        const std::function<void(const ControlReply&)>& on_reply,
                        bool wait_for_close) {
  ControlCall call;
  const std::string path = control_socket_path(config_path);
  // /tmp is shared: only a socket made by this user (or anyone, for root) is a master to trust.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 &&
      (!S_ISSOCK(st.st_mode) || (st.st_uid != ::geteuid() && ::geteuid() != 0))) {
    call.error = path + " is not a control socket of this user's (owner uid " +
                 std::to_string(st.st_uid) + "); not talking to it";
    return call;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    call.error = std::string("cannot create a socket: ") + std::strerror(errno);
    return call;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    if (e == ENOENT) {
      call.error = "no corral master is running for " + config_path + " (no control socket at " +
                   path + "); start one with: corral run -c " + config_path;
    } else if (e == ECONNREFUSED) {
      // The file is there but nobody listens: its master died without removing it.
      call.error = "no corral master is running for " + config_path + " (the control socket " +
                   path +
                   " is stale: the master that made it is gone); start one with: corral "
                   "run -c " +
                   config_path;
    } else if (e == EACCES || e == EPERM) {
      call.error = "not allowed to use " + path + ": the master for " + config_path +
                   " runs as another user";
    } else {
      call.error = "cannot reach the master at " + path + ": " + std::strerror(e);
    }
    return call;
  }
  std::string line = encode(request);
  for (std::size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      call.error = std::string("cannot send to the master: ") + std::strerror(errno);
      ::close(fd);
      return call;
    }
    sent += static_cast<std::size_t>(n);
  }
  call.reached = true;
  std::string buffer;
  bool final_seen = false;
  char chunk[65536];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      auto reply = parse_control_reply(std::string_view(buffer).substr(0, newline));
      buffer.erase(0, newline + 1);
      if (!reply) continue;
      on_reply(*reply);
      if (reply->kind != ControlReply::Kind::progress) {
        final_seen = true;
        call.ok = reply->kind == ControlReply::Kind::success;
      }
    }
    if (final_seen && !wait_for_close) break;
  }
  ::close(fd);
  if (!final_seen) {
    call.ok = false;
    call.error = "the master closed the connection without an answer";
  }
  return call;
}

}  // namespace corral::master
