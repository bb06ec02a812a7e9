#include "proxy/master/proxy_process.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "proxy/master/spawn.hpp"

namespace corral::master {

std::string_view to_string(ProxyProcess::State s) {
  switch (s) {
    case ProxyProcess::State::starting:
      return "starting";
    case ProxyProcess::State::ready:
      return "ready";
    case ProxyProcess::State::draining:
      return "draining";
    case ProxyProcess::State::exited:
      return "exited";
  }
  return "starting";
}

std::shared_ptr<ProxyProcess> ProxyProcess::launch(asio::io_context& ioc, const std::string& binary,
                                                   const std::string& config_path,
                                                   const ListenerSet& listeners,
                                                   std::uint32_t worker_slots,
                                                   std::uint64_t generation) {
  int control[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0) {
    throw std::runtime_error(std::string("cannot create the proxy's control socket: ") +
                             std::strerror(errno));
  }
  SpawnRequest request;
  request.argv = {"corral", "run", "--role=proxy", "-c", config_path};
  request.program = binary;
  request.env = inherited_environment();
  request.env.push_back("CORRAL_LISTEN_FDS=" + listeners.listen_fds());
  if (listeners.admin) request.env.push_back("CORRAL_ADMIN_FD=" + listeners.admin_fd());
  request.env.push_back("CORRAL_CONTROL_FD=" + std::to_string(control[1]));
  if (worker_slots > 0)
    request.env.push_back("CORRAL_WORKER_SLOTS=" + std::to_string(worker_slots));
  request.inherit = listeners.fds();
  request.inherit.push_back(control[1]);
  request.fds = {{STDOUT_FILENO, STDOUT_FILENO}, {STDERR_FILENO, STDERR_FILENO}};
  // It stays in the master's process group (a terminal's ^C reaches both) and drains if the
  // master dies.
  request.death_signal = SIGTERM;
  SpawnResult spawned = spawn(request);
  ::close(control[1]);
  if (spawned.pid < 0) {
    ::close(control[0]);
    throw std::runtime_error("cannot start the proxy: " + spawned.error);
  }
  return std::make_shared<ProxyProcess>(ioc, spawned.pid, control[0], worker_slots, generation);
}

ProxyProcess::ProxyProcess(asio::io_context& ioc, pid_t pid, int control_fd,
                           std::uint32_t worker_slots, std::uint64_t generation)
    : control_(ioc),
      pid_(pid),
      worker_slots_(worker_slots),
      generation_(generation),
      started_at_(Clock::now()) {
  control_.assign(asio::local::stream_protocol(), control_fd);
}

void ProxyProcess::start(OnMessage on_message) {
  asio::co_spawn(control_.get_executor(), read_loop(std::move(on_message)), asio::detached);
}

void ProxyProcess::send(const proxy::ControlMessage& message) {
  queue(proxy::encode(message), message.type == "membership");
}

void ProxyProcess::drain() {
  if (state_ == State::exited) return;
  state_ = State::draining;
  proxy::ControlMessage m;
  m.type = "drain";
  send(m);
}

void ProxyProcess::exited(int) {
  state_ = State::exited;
  queue_.clear();
  // Its last words may still wait in the socket when the exit is seen first.
  if (failure_.empty()) {
    std::string rest;
    char chunk[4096];
    for (;;) {
      ssize_t n = ::recv(control_.native_handle(), chunk, sizeof chunk, MSG_DONTWAIT);
      if (n <= 0) break;
      rest.append(chunk, static_cast<std::size_t>(n));
    }
    for (std::size_t start = 0, end; (end = rest.find('\n', start)) != std::string::npos;
         start = end + 1) {
      auto message = proxy::decode(std::string_view(rest).substr(start, end - start));
      if (message && message->type == "failed") failure_ = message->body;
    }
  }
  error_code ignored;
  control_.close(ignored);
}

bool ProxyProcess::has_drained(std::uint32_t slot, std::uint64_t generation,
                               std::uint64_t after) const {
  auto it = drained_.find(slot);
  if (it == drained_.end()) return false;
  return it->second.generation == generation || it->second.message > after;
}

void ProxyProcess::queue(std::string line, bool membership) {
  if (state_ == State::exited) return;
  // Membership is always the whole table: one waiting is enough. The front may be mid-write.
  if (membership) {
    for (std::size_t i = writing_ ? 1 : 0; i < queue_.size(); ++i) {
      if (queue_[i].membership) {
        queue_[i].line = std::move(line);
        return;
      }
    }
  }
  queue_.push_back(Pending{std::move(line), membership});
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(control_.get_executor(), write_loop(), asio::detached);
  }
}

awaitable<void> ProxyProcess::write_loop() {
  auto self = shared_from_this();
  while (!queue_.empty()) {
    auto [ec, n] = co_await asio::async_write(control_, asio::buffer(queue_.front().line), nothrow);
    if (ec) {
      queue_.clear();
      break;
    }
    queue_.pop_front();
  }
  writing_ = false;
}

awaitable<void> ProxyProcess::read_loop(OnMessage on_message) {
  auto self = shared_from_this();
  std::string buffer;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(
        control_, asio::dynamic_buffer(buffer, 16 * 1024 * 1024), '\n', nothrow);
    if (ec) break;
    std::string_view line = std::string_view(buffer).substr(0, n - 1);
    auto message = proxy::decode(line);
    if (!message) {
      spdlog::warn("proxy pid {}: unreadable control message: {}", pid_, line.substr(0, 200));
    } else {
      ++received_;
      if (message->type == "ready" && state_ == State::starting) {
        state_ = State::ready;
      } else if (message->type == "stats") {
        stats_ = message->stats;
        queued_ = message->queued;
      } else if (message->type == "drained") {
        drained_[message->slot] = Drained{message->generation, received_};
      } else if (message->type == "failed") {
        failure_ = message->body;
      }
      on_message(*this, *message);
    }
    buffer.erase(0, n);
  }
}

}  // namespace corral::master
