#include "session/redis_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "session/redis_adapter.hpp"
#include "session/redis_tls_bridge.hpp"

namespace corral::session {

namespace {

constexpr std::chrono::milliseconds first_backoff{25};
// With the ±20 % jitter a reconnect is tried at least once a second: corral is back within a
// second of Redis.
constexpr std::chrono::milliseconds max_backoff{800};

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.kind = RedisReply::Kind::string;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.kind = RedisReply::Kind::status;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.kind = RedisReply::Kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_NIL:
      out.kind = RedisReply::Kind::nil;
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = RedisReply::Kind::array;
      out.items.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) {
        const auto* e = r->element[i];
        if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
          out.items.emplace_back(e->str, e->len);
        else
          out.items.emplace_back();
      }
      break;
    default:
      out.kind = RedisReply::Kind::other;
      break;
  }
  return out;
}

}  // namespace

spdlog::level::level_enum RedisClient::level(spdlog::level::level_enum l) const {
  return options_.log_transitions ? l : spdlog::level::debug;
}

RedisClient::RedisClient(asio::io_context& ioc, Options options)
    : ioc_(ioc),
      options_(std::move(options)),
      connect_timer_(ioc),
      command_timer_(ioc),
      random_(std::random_device{}()),
      log_(RedisLog::shared(options_.name + " " + options_.target.host + ":" +
                            std::to_string(options_.target.port) + "/" +
                            std::to_string(options_.target.db))) {}

RedisClient::~RedisClient() {
  state_ = State::stopped;
  if (ctx_) {
    auto* c = ctx_;
    ctx_ = nullptr;
    redisAsyncFree(c);  // answers what is in flight with `disconnected`
  }
  for (auto* op : in_flight_) {
    if (!op->done) op->complete(RedisErrc::disconnected, {});
    delete op;
  }
  in_flight_.clear();
}

void RedisClient::start() {
  if (state_ != State::idle) return;
  if (options_.target.tls && !bridge_) {
    bridge_ = std::make_unique<RedisTlsBridge>(ioc_, options_.target, options_.connect_host,
                                               options_.connect_timeout);
    if (!bridge_->open(bridge_error_)) {
      spdlog::error("{}: rediss:// cannot work: {}", options_.name, bridge_error_);
    }
  }
  connect();
}

void RedisClient::connect() {
  state_ = State::connecting;
  const auto& t = options_.target;
  redisAsyncContext* c = nullptr;
  if (bridge_) {
    if (!bridge_error_.empty()) {
      went_down(bridge_error_);
      schedule_reconnect();
      return;
    }
    std::string error;
    if (!bridge_->expect_connection(error)) {
      went_down(error);
      schedule_reconnect();
      return;
    }
    c = redisAsyncConnectUnix(bridge_->path().c_str());
  } else {
    c = redisAsyncConnect(options_.connect_host.c_str(), t.port);
  }
  if (c == nullptr || c->err) {
    went_down(c ? c->errstr : "out of memory");
    if (c) redisAsyncFree(c);
    schedule_reconnect();
    return;
  }
  c->data = this;
  if (redis_asio_attach(c, ioc_) != REDIS_OK) {
    redisAsyncFree(c);
    went_down("cannot watch the connection's socket");
    schedule_reconnect();
    return;
  }
  ctx_ = c;
  redisAsyncSetConnectCallback(c, &RedisClient::on_connect);
  redisAsyncSetDisconnectCallback(c, &RedisClient::on_disconnect);

  // AUTH, SELECT and SCRIPT LOAD go out right behind the connect, pipelined; the connection is
  // ready when the last of them is answered.
  std::vector<std::vector<std::string_view>> handshake;
  if (!t.password.empty()) {
    if (t.user.empty())
      handshake.push_back({"AUTH", t.password});
    else
      handshake.push_back({"AUTH", t.user, t.password});
  }
  std::string db = std::to_string(t.db);
  if (t.db != 0) handshake.push_back({"SELECT", db});
  for (const auto& s : options_.scripts) handshake.push_back({"SCRIPT", "LOAD", s});
  if (!options_.subscribe.empty()) {
    // Ready when the subscription is confirmed (on_subscribed), after its id is known.
    for (const auto& h : handshake) send(h, new HandshakeOp(*this, false));
    std::array<std::string_view, 2> id{"CLIENT", "ID"};
    send(id, new HandshakeOp(*this, false, true));
    const char* argv[] = {"SUBSCRIBE", options_.subscribe.c_str()};
    std::size_t argvlen[] = {9, options_.subscribe.size()};
    redisAsyncCommandArgv(c, &RedisClient::on_subscribed, this, 2, argv, argvlen);
  } else {
    if (handshake.empty()) handshake.push_back({"PING"});
    for (std::size_t i = 0; i < handshake.size(); ++i)
      send(handshake[i], new HandshakeOp(*this, i + 1 == handshake.size()));
  }

  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([this](const error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    if (state_ == State::connecting || state_ == State::handshaking) drop("connect timed out");
  });
}

void RedisClient::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (self->state_ == State::stopped) return;
  if (status != REDIS_OK) {
    // hiredis frees the context right after this callback.
    self->ctx_ = nullptr;
    self->went_down(ac->errstr);
    self->schedule_reconnect();
    return;
  }
  if (self->state_ == State::connecting) self->state_ = State::handshaking;
}

void RedisClient::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (self->state_ == State::stopped) return;
  self->ctx_ = nullptr;  // hiredis frees it after this callback
  self->went_down(status == REDIS_OK ? "connection closed"
                                     : (ac->errstr ? ac->errstr : "connection lost"));
  self->schedule_reconnect();
}

void RedisClient::on_subscribed(redisAsyncContext* ac, void* r, void*) {
  auto* self = static_cast<RedisClient*>(ac->data);
  auto* reply = static_cast<redisReply*>(r);
  // Null when the context goes: on_disconnect tells that.
  if (reply == nullptr || self->state_ == State::stopped) return;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING)
    return;
  std::string_view kind(reply->element[0]->str, reply->element[0]->len);
  if (kind == "subscribe") {
    self->handshake_done(true, {});
  } else if (kind == "message" && self->state_ == State::ready && self->options_.on_message) {
    self->options_.on_message(convert(reply->element[2]));
  }
}

void RedisClient::HandshakeOp::complete(error_code ec, RedisReply reply) {
  done = true;
  if (!ec && client_id) client.client_id_ = reply.integer;
  if (ec) {
    client.handshake_done(false, ec == RedisErrc::server_error ? reply.text : ec.message());
  } else if (last) {
    client.handshake_done(true, {});
  }
}

void RedisClient::handshake_done(bool ok, const std::string& why) {
  if (state_ != State::handshaking && state_ != State::connecting) return;
  if (!ok) {
    // An error answer arrives inside a hiredis callback: free the context after it returns.
    std::string message = "handshake failed: " + why;
    asio::post(ioc_, [this, message] {
      if (state_ == State::handshaking || state_ == State::connecting) drop(message.c_str());
    });
    state_ = State::handshaking;
    return;
  }
  connect_timer_.cancel();
  state_ = State::ready;
  backoff_ = std::chrono::milliseconds(0);
  stats_.up.store(true, std::memory_order_relaxed);
  stats_.answering.store(true, std::memory_order_relaxed);  // its handshake was answered
  logged_down_ = false;
  if (!was_up_) {
    was_up_ = true;
    if (log_.on_up())
      spdlog::log(level(spdlog::level::info), "{}: connected to Redis at {}:{}", options_.name,
                  options_.target.host, options_.target.port);
  }
  told_up_ = true;
  if (options_.on_state) options_.on_state(true);
}

void RedisClient::went_down(const std::string& why) {
  stats_.up.store(false, std::memory_order_relaxed);
  if (was_up_) {
    was_up_ = false;
    logged_down_ = true;
    if (log_.on_lost())
      spdlog::log(level(spdlog::level::warn), "{}: Redis connection lost ({}); reconnecting",
                  options_.name, why);
  } else if (!logged_down_) {
    logged_down_ = true;
    if (log_.on_unreachable())
      spdlog::log(level(spdlog::level::warn), "{}: cannot reach Redis at {}:{} ({}); retrying",
                  options_.name, options_.target.host, options_.target.port, why);
  }
  if (told_up_) {
    told_up_ = false;
    if (options_.on_state) options_.on_state(false);
  }
}

void RedisClient::drop(const char* why) {
  if (!ctx_) return;
  auto* c = ctx_;
  went_down(why);
  state_ = State::backoff;  // on_disconnect, called from the free, must not schedule again...
  redisAsyncFree(c);        // answers what is in flight with `disconnected`
  ctx_ = nullptr;
  state_ = State::idle;  // ...this does
  schedule_reconnect();
}

void RedisClient::schedule_reconnect() {
  if (state_ == State::backoff || state_ == State::stopped) return;
  state_ = State::backoff;
  backoff_ = backoff_.count() == 0 ? first_backoff : std::min(backoff_ * 2, max_backoff);
  std::uniform_int_distribution<long> jitter(-static_cast<long>(backoff_.count()) / 5,
                                             static_cast<long>(backoff_.count()) / 5);
  connect_timer_.expires_after(backoff_ + std::chrono::milliseconds(jitter(random_)));
  connect_timer_.async_wait([this](const error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    if (state_ != State::backoff) return;
    RedisStats::add(stats_.reconnects);
    connect();
  });
}

void RedisClient::submit(std::span<const std::string_view> args, OpBase* op) {
  if (state_ != State::ready || !ctx_) {
    RedisStats::add(stats_.errors);
    op->complete(RedisErrc::not_connected, {});
    delete op;
    return;
  }
  send(args, op);
}

bool RedisClient::send(std::span<const std::string_view> args, OpBase* op) {
  constexpr std::size_t max_args = 64;
  const char* argv[max_args];
  std::size_t argvlen[max_args];
  std::size_t n = std::min(args.size(), max_args);
  for (std::size_t i = 0; i < n; ++i) {
    argv[i] = args[i].data();
    argvlen[i] = args[i].size();
  }
  op->sent = clock::now();
  if (args.size() > max_args ||
      redisAsyncCommandArgv(ctx_, &RedisClient::on_reply, op, static_cast<int>(n), argv, argvlen) !=
          REDIS_OK) {
    RedisStats::add(stats_.errors);
    op->complete(args.size() > max_args ? RedisErrc::bad_reply : RedisErrc::not_connected, {});
    delete op;
    return false;
  }
  RedisStats::add(stats_.commands);
  in_flight_.push_back(op);
  arm_command_timer();
  return true;
}

void RedisClient::on_reply(redisAsyncContext* ac, void* r, void* privdata) {
  auto* self = static_cast<RedisClient*>(ac->data);
  auto* op = static_cast<OpBase*>(privdata);
  auto& q = self->in_flight_;
  // Answers come in the order sent: `op` is the front, unless the client is being destroyed.
  if (!q.empty() && q.front() == op)
    q.pop_front();
  else if (auto it = std::find(q.begin(), q.end(), op); it != q.end())
    q.erase(it);
  auto* reply = static_cast<redisReply*>(r);
  if (reply != nullptr) self->stats_.answering.store(true, std::memory_order_relaxed);
  if (!op->done) {
    if (reply == nullptr) {
      RedisStats::add(self->stats_.errors);
      op->complete(RedisErrc::disconnected, {});
    } else {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - op->sent);
      RedisStats::add(self->stats_.latency_us_sum, static_cast<std::uint64_t>(us.count()));
      RedisStats::add(self->stats_.answered);
      if (reply->type == REDIS_REPLY_ERROR) {
        RedisStats::add(self->stats_.errors);
        op->complete(RedisErrc::server_error, convert(reply));
      } else {
        op->complete({}, convert(reply));
      }
    }
  }
  delete op;
}

void RedisClient::arm_command_timer() {
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                         [](OpBase* op) { return !op->done && !op->handshake; });
  if (it == in_flight_.end()) return;
  auto at = (*it)->sent + options_.command_timeout;
  if (at >= command_timer_at_) return;
  command_timer_at_ = at;
  command_timer_.expires_at(at);
  command_timer_.async_wait([this](const error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    command_timer_at_ = clock::time_point::max();
    on_command_timer();
  });
}

void RedisClient::on_command_timer() {
  auto now = clock::now();
  // Commands time out in the order sent; their replies may still come and are then dropped.
  for (auto* op : in_flight_) {
    if (op->done || op->handshake) continue;
    if (op->sent + options_.command_timeout > now) break;
    RedisStats::add(stats_.timeouts);
    stats_.answering.store(false, std::memory_order_relaxed);
    op->complete(RedisErrc::timed_out, {});
  }
  // A connection that has answered nothing for several command timeouts (Redis stopped,
  // a network gone quiet) is given up and made again.
  if (!in_flight_.empty() && ctx_ && state_ == State::ready &&
      in_flight_.front()->sent +
              std::max<std::chrono::milliseconds>(options_.command_timeout * 4,
                                                  std::chrono::milliseconds(1000)) <=
          now) {
    drop("no answer from Redis");
    return;
  }
  arm_command_timer();
  if (command_timer_at_ == clock::time_point::max() && !in_flight_.empty() && ctx_) {
    // Only timed-out commands remain: look again when the oldest should be given up.
    command_timer_at_ = now + options_.command_timeout;
    command_timer_.expires_at(command_timer_at_);
    command_timer_.async_wait([this](const error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      command_timer_at_ = clock::time_point::max();
      on_command_timer();
    });
  }
}

}  // namespace corral::session
