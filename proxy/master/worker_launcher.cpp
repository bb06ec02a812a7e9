#include "proxy/master/worker_launcher.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/validate.hpp"
#include "proxy/master/spawn.hpp"

namespace corral::master {
namespace {

void close_all(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}

}  // namespace

LaunchResult launch_worker(const WorkerSpec& spec, std::uint32_t slot, std::uint64_t generation,
                           std::uint16_t port) {
  LaunchResult result;
  int channel[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0 ||
      ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    result.error = std::string("cannot create the worker's pipes: ") + std::strerror(errno);
    close_all({channel[0], channel[1], out[0], out[1], err[0], err[1]});
    return result;
  }
  SpawnRequest request;
  request.argv = spec.argv;
  request.env = inherited_environment();
  // The proxy's insert key is the master's to hand on, not the app's.
  const std::string key_prefix = std::string(config::generated_insert_key_env) + "=";
  std::erase_if(request.env, [&](const std::string& e) { return e.rfind(key_prefix, 0) == 0; });
  for (const auto& [name, value] : spec.env) request.env.push_back(name + "=" + value);
  const std::string fd = std::to_string(worker_channel_fd);
  request.env.push_back("PORT=" + std::to_string(port));
  request.env.push_back("CORRAL_WORKER_ID=" + std::to_string(slot));
  request.env.push_back("CORRAL_GENERATION=" + std::to_string(generation));
  request.env.push_back("CORRAL_CHANNEL_FD=" + fd);
  request.env.push_back("NODE_CHANNEL_FD=" + fd);
  request.env.push_back("NODE_CHANNEL_SERIALIZATION_MODE=json");
  request.cwd = spec.cwd;
  request.fds = {{out[1], 1}, {err[1], 2}, {channel[1], worker_channel_fd}};
  request.own_process_group = true;
  request.death_signal = SIGKILL;
  SpawnResult spawned = spawn(request);
  close_all({channel[1], out[1], err[1]});
  if (spawned.pid < 0) {
    close_all({channel[0], out[0], err[0]});
    result.error = spawned.error;
    return result;
  }
  result.worker = LaunchedWorker{spawned.pid, channel[0], out[0], err[0]};
  return result;
}

std::uint16_t pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace corral::master
