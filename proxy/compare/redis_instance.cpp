#include "proxy/compare/redis_instance.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>
#include <thread>

namespace corral::compare {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::uint16_t free_loopback_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return a.local_endpoint().port();
}

std::string RedisInstance::binary() { return find_in_path("redis-server"); }

RedisInstance::RedisInstance(const std::string& log_path) : log_path_(log_path) {
  if (binary().empty())
    throw std::runtime_error(
        "redis-server is not installed (deploy/scripts/install-deps.sh test installs it)");
  port_ = free_loopback_port();
  start();
}

RedisInstance::~RedisInstance() {
  if (process_) process_->kill_now();
}

namespace {

bool answers_ping(std::uint16_t port) {
  try {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    asio::write(s, asio::buffer(std::string_view("PING\r\n")));
    asio::streambuf buf;
    asio::read_until(s, buf, "\r\n");
    std::string line(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
    return line.starts_with("+PONG");
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

void RedisInstance::start() {
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary(), "--port", std::to_string(port_), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"},
      log_path_);
  for (int i = 0; i < 250; ++i) {
    if (answers_ping(port_)) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("redis-server did not start on port " + std::to_string(port_) +
                           " (see " + log_path_ + ")");
}

void RedisInstance::restart() {
  process_->kill_now();
  start();
}

}  // namespace corral::compare
