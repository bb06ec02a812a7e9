#include "tests/integration/redis_server.hpp"

#include <unistd.h>

#include <regex>

namespace corral::test {

std::optional<std::string> RedisServer::binary() {
  for (const char* path : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
    if (::access(path, X_OK) == 0) return std::string(path);
  return std::nullopt;
}

RedisServer::RedisServer(std::vector<std::string> extra) : extra_(std::move(extra)) {
  ClosedPort free_port;
  port_ = free_port.port();
  free_port.release();
  start();
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() {
  if (process_) return;
  std::vector<std::string> argv{*binary(), "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--logfile", ""};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  process_ = std::make_unique<Process>(argv);
  process_->wait_for_line(std::regex("Ready to accept connections"), 10s);
}

void RedisServer::stop() {
  if (!process_) return;
  process_->signal(SIGCONT);
  process_->kill();
  process_->wait_exit(5s);
  process_.reset();
}

void RedisServer::pause() {
  if (process_) process_->signal(SIGSTOP);
}

void RedisServer::resume() {
  if (process_) process_->signal(SIGCONT);
}

std::string RedisServer::cli(std::vector<std::string> args, unsigned db) {
  std::vector<std::string> argv{"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port_), "-n",
                                std::to_string(db)};
  for (std::size_t i = 0; i + 1 < extra_.size(); ++i)
    if (extra_[i] == "--requirepass") argv.insert(argv.end(), {"--no-auth-warning", "-a", extra_[i + 1]});
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, 10s);
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace corral::test
