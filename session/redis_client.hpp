#pragma once
// One pipelined Redis connection for one proxy thread, on that thread's io_context: connects,
// authenticates (AUTH, with the user for an ACL user), selects the database and loads the
// scripts it is given; answers every command within the command timeout (an answer, or an
// error); reconnects by itself with a doubling backoff with jitter, capped under a second.
// Or, with Options::subscribe, a connection that only listens to one Pub/Sub channel (the
// session cache's invalidations) and tells its client id.
#include <hiredis/async.h>

#include <atomic>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/common.h>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
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

// A Redis reply reduced to what callers here need (arrays of strings, not nested ones).
struct RedisReply {
  enum class Kind { nil, string, integer, status, array, other };
  Kind kind = Kind::nil;
  long long integer = 0;
  std::string text;                // a bulk string or a status
  std::vector<std::string> items;  // an array's strings (a nil or nested element as empty)
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
    std::vector<std::string> scripts{};  // SCRIPT LOADed on each connection
    std::string name = "session store";  // what the log lines call it
    bool log_transitions = true;  // false: connected / lost only at debug level
    // Pub/Sub: the connection subscribes to this channel (after CLIENT ID) and takes no
    // commands; each message's payload goes to on_message.
    std::string subscribe{};
    std::function<void(const RedisReply&)> on_message{};
    // Each transition: true when the connection became ready, false when it was lost.
    std::function<void(bool)> on_state{};
  };

  RedisClient(asio::io_context& ioc, Options options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void start();  // on the io_context's thread
  bool ready() const { return state_ == State::ready; }
  const RedisStats& stats() const { return stats_; }
  void set_on_state(std::function<void(bool)> f) { options_.on_state = std::move(f); }
  // A subscribe connection's CLIENT ID (valid while ready).
  long long client_id() const { return client_id_; }

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

  // Sends commands back to back (one round trip) and answers once, with every reply in order;
  // the error is the first command's that failed. Handler: void(error_code,
  // std::vector<RedisReply>), never inside this call.
  template <class Token>
  auto async_pipeline(std::span<const std::span<const std::string_view>> commands, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::vector<RedisReply>)>(
        [this](auto handler, std::span<const std::span<const std::string_view>> cmds) {
          using H = decltype(handler);
          auto* batch = new Batch<H>(std::move(handler), ioc_, cmds.size());
          for (std::size_t i = 0; i < cmds.size(); ++i)
            submit(cmds[i], new BatchPart(*batch, i));
        },
        token, commands);
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

  struct BatchBase {
    explicit BatchBase(std::size_t n) : replies(n), left(n) {}
    virtual ~BatchBase() = default;
    virtual void finish() = 0;  // posts the handler and deletes the batch
    void part_done(std::size_t i, error_code e, RedisReply r) {
      if (e && !ec) ec = e;
      replies[i] = std::move(r);
      if (--left == 0) finish();
    }
    std::vector<RedisReply> replies;
    error_code ec;
    std::size_t left;
  };

  template <class Handler>
  struct Batch final : BatchBase {
    Batch(Handler h, asio::io_context& ioc, std::size_t n)
        : BatchBase(n), handler(std::move(h)), ioc(ioc) {}
    void finish() override {
      auto ex = asio::get_associated_executor(handler, ioc.get_executor());
      asio::post(ex, asio::append(std::move(handler), ec, std::move(replies)));
      delete this;
    }
    Handler handler;
    asio::io_context& ioc;
  };

  // One command of a batch.
  struct BatchPart final : OpBase {
    BatchPart(BatchBase& b, std::size_t i) : batch(b), index(i) {}
    void complete(error_code ec, RedisReply reply) override {
      done = true;
      batch.part_done(index, ec, std::move(reply));
    }
    BatchBase& batch;
    std::size_t index;
  };

  // Handshake commands: their answer decides whether the connection is usable.
  struct HandshakeOp final : OpBase {
    HandshakeOp(RedisClient& c, bool last, bool client_id = false)
        : client(c), last(last), client_id(client_id) {
      handshake = true;
    }
    void complete(error_code ec, RedisReply reply) override;
    RedisClient& client;
    bool last;
    bool client_id;  // CLIENT ID: its answer is kept
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
  static void on_subscribed(redisAsyncContext* ac, void* reply, void* privdata);
  spdlog::level::level_enum level(spdlog::level::level_enum l) const;

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
  long long client_id_ = 0;
  bool told_up_ = false;  // on_state(true) said last
};

}  // namespace corral::session
