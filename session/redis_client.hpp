#pragma once
// One pipelined Redis connection for one proxy thread, on that thread's io_context: connects,
// authenticates (AUTH, with the user for an ACL user), selects the database and loads the
// scripts it is given; answers every command within the command timeout (an answer, or an
// error); reconnects by itself with a doubling backoff with jitter, capped under a second.
#include <hiredis/async.h>

#include <atomic>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "session/redis_error.hpp"
#include "session/redis_log.hpp"

namespace corral::session {

class RedisTlsBridge;

namespace asio = boost::asio;
using error_code = boost::system::error_code;

// A Redis reply reduced to what callers here need (no arrays).
struct RedisReply {
  enum class Kind { nil, string, integer, status, other };
  Kind kind = Kind::nil;
  long long integer = 0;
  std::string text;  // a bulk string or a status
};

// Counters of one client, written by its thread and read by the admin listener.
struct RedisStats {
  std::atomic<bool> up{false};             // a connection is ready
  // False from a command not answered within the command timeout until Redis answers again:
  // requests fail from that moment, so readiness follows it rather than the connection.
  std::atomic<bool> answering{true};
  std::atomic<std::uint64_t> commands{0};  // sent
  std::atomic<std::uint64_t> errors{0};    // answered with an error, lost, or refused unconnected
  std::atomic<std::uint64_t> timeouts{0};  // not answered within the command timeout
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> latency_us_sum{0};  // of answered commands
  std::atomic<std::uint64_t> answered{0};

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

class RedisClient {
 public:
  using clock = std::chrono::steady_clock;

  struct Options {
    config::RedisTarget target;
    std::string connect_host;  // target.host resolved to an address, or the name itself
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{200};
    std::vector<std::string> scripts;  // SCRIPT LOADed on each connection
    std::string name = "session store";  // what the log lines call it
  };

  RedisClient(asio::io_context& ioc, Options options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void start();  // on the io_context's thread
  bool ready() const { return state_ == State::ready; }
  const RedisStats& stats() const { return stats_; }

  // Sends one command (pipelined behind those in flight). The handler, void(error_code,
  // RedisReply), runs later on the io_context, never inside this call; an error reply gives
  // server_error with the message in the reply's text.
  template <class Token>
  auto async_command(std::span<const std::string_view> args, Token&& token) {
    return asio::async_initiate<Token, void(error_code, RedisReply)>(
        [this](auto handler, std::span<const std::string_view> a) {
          using H = decltype(handler);
          submit(a, new Op<H>(std::move(handler), ioc_));
        },
        token, args);
  }

 private:
  enum class State { idle, connecting, handshaking, ready, backoff, stopped };

  struct OpBase {
    clock::time_point sent;
    bool done = false;       // answered already (by the timeout); the late reply is dropped
    bool handshake = false;  // bounded by the connect timeout, not the command timeout
    virtual ~OpBase() = default;
    virtual void complete(error_code ec, RedisReply reply) = 0;
  };

  template <class Handler>
  struct Op final : OpBase {
    Op(Handler h, asio::io_context& ioc) : handler(std::move(h)), ioc(ioc) {}
    void complete(error_code ec, RedisReply reply) override {
      done = true;
      auto ex = asio::get_associated_executor(handler, ioc.get_executor());
      asio::post(ex, asio::append(std::move(handler), ec, std::move(reply)));
    }
    Handler handler;
    asio::io_context& ioc;
  };

  // Handshake commands: their answer decides whether the connection is usable.
  struct HandshakeOp final : OpBase {
    HandshakeOp(RedisClient& c, bool last) : client(c), last(last) { handshake = true; }
    void complete(error_code ec, RedisReply reply) override;
    RedisClient& client;
    bool last;
  };

  void submit(std::span<const std::string_view> args, OpBase* op);
  bool send(std::span<const std::string_view> args, OpBase* op);
  void connect();
  void drop(const char* why);
  void schedule_reconnect();
  void arm_command_timer();
  void on_command_timer();
  void handshake_done(bool ok, const std::string& why);
  void went_down(const std::string& why);

  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);

  asio::io_context& ioc_;
  Options options_;
  redisAsyncContext* ctx_ = nullptr;
  State state_ = State::idle;
  std::deque<OpBase*> in_flight_;     // in the order sent, which is the order answered
  asio::steady_timer connect_timer_;  // connect + handshake deadline, then the backoff
  asio::steady_timer command_timer_;
  clock::time_point command_timer_at_ = clock::time_point::max();
  std::chrono::milliseconds backoff_{0};
  std::minstd_rand random_;
  bool was_up_ = false;       // for logging transitions once
  bool logged_down_ = false;  // "cannot connect" said once until the next success
  RedisLog& log_;             // and once for all the threads' connections to this server
  RedisStats stats_;
  std::unique_ptr<RedisTlsBridge> bridge_;  // rediss://: hiredis talks to Redis through it
  std::string bridge_error_;                // set when the bridge could not be opened
};

}  // namespace corral::session
