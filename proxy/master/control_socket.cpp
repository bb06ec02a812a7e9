#include "proxy/master/control_socket.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace corral::master {

std::string control_socket_path(const std::string& config_path) {
  if (const char* over = std::getenv("CORRAL_CONTROL_SOCKET"); over && *over) return over;
  std::error_code ec;
  auto absolute = std::filesystem::absolute(config_path, ec);
  auto canonical = std::filesystem::weakly_canonical(absolute, ec);
  const std::string key = ec ? absolute.lexically_normal().string() : canonical.string();
  std::uint64_t hash = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char name[64];
  std::snprintf(name, sizeof name, "/tmp/corral-%016llx.sock",
                static_cast<unsigned long long>(hash));
  return name;
}

// ---------------------------------------------------------------------------------------------
// ControlReplies

ControlReplies::ControlReplies(asio::local::stream_protocol::socket socket)
    : socket_(std::move(socket)) {}

ControlReplies::ControlReplies(Sink sink) : sink_(std::move(sink)) {}

void ControlReplies::progress(const std::string& text) {
  if (!finished_) write(progress_line(text));
}

void ControlReplies::success(const std::string& message, boost::json::object fields) {
  if (finished_) return;
  write(success_line(message, std::move(fields)));
  finished_ = true;
}

void ControlReplies::error(const std::string& text) {
  if (finished_) return;
  write(error_line(text));
  finished_ = true;
}

void ControlReplies::write(std::string line) {
  if (sink_) return sink_(std::move(line));
  queue_.push_back(std::move(line));
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(socket_->get_executor(), write_loop(), asio::detached);
  }
}

awaitable<void> ControlReplies::write_loop() {
  auto self = shared_from_this();
  while (!queue_.empty()) {
    // The CLI may have gone away (^C); the command carries on regardless.
    auto [ec, n] = co_await asio::async_write(*socket_, asio::buffer(queue_.front()), nothrow);
    if (ec) queue_.clear();
    if (!queue_.empty()) queue_.pop_front();
  }
  writing_ = false;
  if (finished_ && !keep_open_) {
    error_code ignored;
    socket_->shutdown(asio::socket_base::shutdown_both, ignored);
    socket_->close(ignored);
  }
}

// ---------------------------------------------------------------------------------------------
// ControlServer

namespace {

// Whether a master answers at `path`.
bool someone_listens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  bool answered = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return answered;
}

}  // namespace

ControlServer::ControlServer(asio::io_context& ioc, std::string path, Handler handler)
    : ioc_(ioc), path_(std::move(path)), handler_(std::move(handler)), acceptor_(ioc) {
  if (path_.size() >= sizeof(sockaddr_un::sun_path)) {
    throw std::runtime_error("control socket path too long: " + path_);
  }
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error(path_ + " exists and is not a socket; remove it");
    }
    if (someone_listens(path_)) {
      throw std::runtime_error("a corral master already runs for this config (control socket " +
                               path_ + ")");
    }
    ::unlink(path_.c_str());  // left by a master that died
  }
  using protocol = asio::local::stream_protocol;
  acceptor_.open(protocol());
  mode_t old_mask = ::umask(0177);  // the socket is born 0600: only this user may command
  error_code ec;
  acceptor_.bind(protocol::endpoint(path_), ec);
  ::umask(old_mask);
  if (ec)
    throw std::runtime_error("cannot create the control socket " + path_ + ": " + ec.message());
  ::chmod(path_.c_str(), 0600);
  acceptor_.listen(16);
}

ControlServer::~ControlServer() { close(); }

void ControlServer::start() { asio::co_spawn(ioc_, accept_loop(), asio::detached); }

void ControlServer::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  ::unlink(path_.c_str());
}

awaitable<void> ControlServer::accept_loop() {
  while (!closed_) {
    auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
    if (ec) {
      if (closed_ || ec == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> ControlServer::serve(asio::local::stream_protocol::socket socket) {
  std::string buffer;
  asio::steady_timer timer(ioc_);
  timer.expires_after(std::chrono::seconds(10));
  timer.async_wait([&socket](error_code ec) {
    if (!ec) socket.close();
  });
  auto [ec, n] =
      co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer, 1 << 20), '\n', nothrow);
  timer.cancel();
  if (ec) co_return;
  auto replies = std::make_shared<ControlReplies>(std::move(socket));
  ParsedControlRequest parsed = parse_control_request(std::string_view(buffer).substr(0, n - 1));
  if (!parsed.request) {
    replies->error(parsed.error);
    co_return;
  }
  co_await handler_(std::move(*parsed.request), replies);
  if (!replies->finished()) replies->error("the master gave no answer");
}

}  // namespace corral::master
