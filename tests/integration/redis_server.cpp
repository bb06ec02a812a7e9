#include "tests/integration/redis_server.hpp"

#include <cstdlib>
#include <string_view>

#include <unistd.h>

#include <fstream>
#include <regex>

namespace corral::test {

std::optional<std::string> redis_missing(bool tls) {
  if (!RedisServer::binary())
    return "redis-server is not installed (deploy/scripts/install-deps.sh test installs it); "
           "these tests need a real one";
  if (tls && run_command({"openssl", "version"}).exit_code != 0)
    return "the openssl command is not installed; it makes the test's certificates";
  return std::nullopt;
}

bool redis_required() {
  const char* v = std::getenv("CORRAL_REQUIRE_REDIS");
  return v && std::string_view(v) == "1";
}

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

RedisServer::RedisServer(const TestCertificates& tls) : tls_(tls) {
  ClosedPort free_port;
  port_ = free_port.port();
  free_port.release();
  start();
}

RedisServer::~RedisServer() { stop(); }

TestCertificates make_test_certificates(const std::filesystem::path& dir) {
  TestCertificates t{(dir / "ca.crt").string(), (dir / "server.crt").string(),
                     (dir / "server.key").string()};
  auto csr = (dir / "server.csr").string();
  auto ext = (dir / "ext.cnf").string();
  auto ca_key = (dir / "ca.key").string();
  {
    std::ofstream f(ext);
    f << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  }
  auto must = [](std::vector<std::string> argv) {
    auto r = run_command(argv, 30s);
    if (r.exit_code != 0) throw HarnessError("openssl failed: " + r.err);
  };
  must({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", t.ca,
        "-days", "2", "-subj", "/CN=corral test CA"});
  must({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", t.key, "-out", csr, "-subj",
        "/CN=localhost"});
  must({"openssl", "x509", "-req", "-in", csr, "-CA", t.ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", t.cert, "-days", "2", "-extfile", ext});
  return t;
}

void RedisServer::start() {
  if (process_) return;
  std::vector<std::string> argv{*binary(), "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                "--save",  "",       "--appendonly",        "no",     "--logfile",
                                ""};
  if (tls_) {
    argv[2] = "0";
    argv.insert(argv.end(), {"--tls-port", std::to_string(port_), "--tls-cert-file", tls_->cert,
                             "--tls-key-file", tls_->key, "--tls-ca-cert-file", tls_->ca,
                             "--tls-auth-clients", "no"});
  }
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
  std::vector<std::string> argv{"redis-cli",           "-h", "127.0.0.1",       "-p",
                                std::to_string(port_), "-n", std::to_string(db)};
  if (tls_) argv.insert(argv.end(), {"--tls", "--cacert", tls_->ca});
  for (std::size_t i = 0; i + 1 < extra_.size(); ++i)
    if (extra_[i] == "--requirepass")
      argv.insert(argv.end(), {"--no-auth-warning", "-a", extra_[i + 1]});
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, 10s);
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace corral::test
