#pragma once
// A redis-server of the test's own: a free loopback port, no persistence, stopped by pid.
// Tests that need one start with REQUIRE_REDIS() or REQUIRE_REDIS_TLS(): the test is skipped,
// with the reason, when redis-server (or openssl, for TLS) is not installed, and fails instead
// when CORRAL_REQUIRE_REDIS=1 (tests/run-all.sh sets it after installing both), so a missing
// dependency in CI is never a silent skip.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.hpp"

namespace corral::test {

// A CA and a server certificate for 127.0.0.1 and localhost signed by it, made with the
// openssl command in `dir`.
struct TestCertificates {
  std::string ca;  // PEM files
  std::string cert;
  std::string key;
};
TestCertificates make_test_certificates(const std::filesystem::path& dir);

// Why the Redis tests cannot run here (redis-server, or with `tls` openssl, not installed);
// nothing when they can.
std::optional<std::string> redis_missing(bool tls = false);
// Whether a missing Redis fails the test rather than skipping it (CORRAL_REQUIRE_REDIS=1).
bool redis_required();

#define CORRAL_REQUIRE_REDIS_IMPL(tls)                                     \
  if (auto corral_redis_why = ::corral::test::redis_missing(tls)) {        \
    if (::corral::test::redis_required()) FAIL() << *corral_redis_why;     \
    GTEST_SKIP() << *corral_redis_why;                                     \
  }
#define REQUIRE_REDIS() CORRAL_REQUIRE_REDIS_IMPL(false)
#define REQUIRE_REDIS_TLS() CORRAL_REQUIRE_REDIS_IMPL(true)

class RedisServer {
 public:
  // The redis-server binary, or nothing when it is not installed.
  static std::optional<std::string> binary();

  // Starts it with `extra` arguments (e.g. {"--requirepass", "pw"}); ready when constructed.
  explicit RedisServer(std::vector<std::string> extra = {});
  // TLS only (rediss://), with these certificates; clients are not asked for one.
  explicit RedisServer(const TestCertificates& tls);
  ~RedisServer();

  std::uint16_t port() const { return port_; }
  std::string url(unsigned db = 0) const {
    return std::string(tls_ ? "rediss" : "redis") + "://127.0.0.1:" + std::to_string(port_) + "/" +
           std::to_string(db);
  }

  void stop();    // SIGKILL and reap: gone at once, connections reset
  void start();   // again, on the same port, empty
  void pause();   // SIGSTOP: connected but silent
  void resume();  // SIGCONT
  bool running() const { return process_ != nullptr; }

  // redis-cli against this server; its stdout without the trailing newline.
  std::string cli(std::vector<std::string> args, unsigned db = 0);

 private:
  std::vector<std::string> extra_;
  std::optional<TestCertificates> tls_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace corral::test
