#include "session/session_store.hpp"

#include <openssl/sha.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <vector>

namespace corral::session {

// KEYS[1] the session, ARGV[1] the TTL in ms, ARGV[2] '1' to create, then name/value pairs.
// Returns the new version, -1 when the session to change is gone, -2 when the id to create is
// taken. A cleared session is deleted and its id never comes back, so a request that loaded it
// before the clear cannot bring it back; fields are merged one by one, so two requests
// changing different fields both land.
const char* const session_update_script = R"(local exists = redis.call('EXISTS', KEYS[1])
if ARGV[2] == '1' then
  if exists == 1 then return -2 end
elseif exists == 0 then
  return -1
end
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == 'null' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return v
)";

namespace {

constexpr std::string_view key_prefix = "corral:session:";
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

std::string sha1_hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

const std::string& update_sha() {
  static const std::string sha = sha1_hex(session_update_script);
  return sha;
}

// "corral:session:<id>" on the stack.
struct Key {
  explicit Key(const SessionId& id) {
    std::copy(key_prefix.begin(), key_prefix.end(), text.begin());
    std::copy(id.text.begin(), id.text.end(), text.begin() + key_prefix.size());
  }
  std::string_view view() const { return {text.data(), text.size()}; }
  std::array<char, key_prefix.size() + session_id_size> text;
};

constexpr std::string_view invalidate_channel = "__redis__:invalidate";
constexpr std::chrono::seconds heartbeat_every{1};

using clock = SessionCache::clock;

}  // namespace

std::string session_json(std::span<const std::string> f) {
  std::size_t size = 2;
  for (std::size_t i = 0; i + 1 < f.size(); i += 2) size += f[i].size() + f[i + 1].size() + 2;
  std::string out;
  out.reserve(size);
  out += '{';
  for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
    if (f[i] == "v") continue;
    if (out.size() > 1) out += ',';
    out += f[i];
    out += ':';
    out += f[i + 1];
  }
  out += '}';
  return out;
}

bool header_safe(std::string_view v) {
  for (unsigned char c : v)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

SessionStore::SessionStore(asio::io_context& ioc, const config::Sessions& cfg,
                           std::string connect_host, SessionWrites* writes)
    : cfg_(cfg),
      ttl_ms_(std::to_string(cfg.ttl.count())),
      ttl_(std::chrono::duration_cast<clock::duration>(cfg.ttl)),
      renew_after_(ttl_ / 8),
      client_(ioc, RedisClient::Options{cfg.redis,
                                        connect_host,
                                        cfg.connect_timeout,
                                        cfg.command_timeout,
                                        {session_update_script}}),
      cache_(cfg.cache_max_entries, cfg.cache_max_bytes),
      writes_(writes),
      heartbeat_(ioc) {
  if (cfg.cache_max_entries == 0) return;
  RedisClient::Options o{cfg.redis, std::move(connect_host), cfg.connect_timeout,
                         cfg.command_timeout};
  o.name = "session cache invalidations";
  o.log_transitions = false;  // the store's own connection says when Redis comes and goes
  o.subscribe = std::string(invalidate_channel);
  o.on_message = [this](const RedisReply& r) { on_invalidation(r); };
  o.on_state = [this](bool) { on_connection(); };
  invalidations_.emplace(ioc, std::move(o));
}

SessionStore::~SessionStore() = default;

void SessionStore::start() {
  if (invalidations_) {
    client_.set_on_state([this](bool) { on_connection(); });
    invalidations_->start();
    heartbeat();
  }
  client_.start();
}

// Either connection came or went: whatever was cached may have missed an invalidation. The
// cache is on again once the store's connection tracks its reads towards the listening one.
void SessionStore::on_connection() {
  ++tracking_;
  cache_.disable();
  count_entries();
  track();
}

void SessionStore::track() {
  if (!client_.ready() || !invalidations_ || !invalidations_->ready()) return;
  auto id = std::to_string(invalidations_->client_id());
  // NOLOOP: our own writes (PEXPIRE, the update script) do not invalidate what we hold; the
  // store drops or replaces those entries itself.
  std::array<std::string_view, 6> args{"CLIENT", "TRACKING", "on", "REDIRECT", id, "NOLOOP"};
  client_.async_command(args, [this, alive = std::weak_ptr<int>(alive_), at = tracking_](
                                  error_code ec, const RedisReply& reply) {
    if (!alive.lock() || at != tracking_) return;
    if (ec) {
      if (ec == RedisErrc::server_error && !tracking_refused_) {
        tracking_refused_ = true;
        spdlog::warn("session store: no session cache: CLIENT TRACKING refused ({})", reply.text);
      }
      return;
    }
    cache_.enable();
  });
}

void SessionStore::on_invalidation(const RedisReply& payload) {
  SessionCounters::add(counters_.invalidations);
  if (payload.kind != RedisReply::Kind::array) {
    cache_.clear();  // a FLUSHDB / FLUSHALL: every key at once
  } else {
    for (const auto& key : payload.items) {
      std::string_view k(key);
      std::optional<SessionId> id;
      if (k.starts_with(key_prefix)) id = parse_session_id(k.substr(key_prefix.size()));
      if (id)
        cache_.erase(*id);
      else
        cache_.clear();  // not a key of ours: drop everything rather than guess
    }
  }
  count_entries();
}

// While the cache serves, a command a second keeps the store's silence noticed (a paused
// Redis, a network gone quiet): the ping not answered within the command timeout makes the
// store down, and the cache is not used while it is.
void SessionStore::heartbeat() {
  heartbeat_.expires_after(heartbeat_every);
  heartbeat_.async_wait([this](const error_code& ec) {
    if (ec) return;
    if (cache_.enabled() && client_.ready()) {
      std::array<std::string_view, 1> ping{"PING"};
      client_.async_command(ping, [](error_code, const RedisReply&) {});
    } else if (!cache_.enabled() && !tracking_refused_) {
      track();  // a CLIENT TRACKING that timed out is tried again
    }
    heartbeat();
  });
}

void SessionStore::count_entries() {
  counters_.cache_entries.store(cache_.size(), std::memory_order_relaxed);
}

void SessionStore::renew(const SessionId& id) {
  Key key(id);
  std::array<std::string_view, 3> args{"PEXPIRE", key.view(), ttl_ms_};
  SessionCounters::add(counters_.renewals);
  client_.async_command(args, [](error_code, const RedisReply&) {});
}

const std::string* SessionStore::cached(const SessionId& id) {
  if (!cache_.enabled() || !up()) return nullptr;
  auto* e = cache_.find(id);
  if (!e) return nullptr;
  if (writes_ && writes_->mark(id) != e->mark) {
    // Written through another thread since this copy was read.
    cache_.erase(id);
    count_entries();
    return nullptr;
  }
  auto now = clock::now();
  if (now - e->renewed >= ttl_) {
    // Not renewed for a whole TTL (this copy was not used): Redis may have expired it.
    cache_.erase(id);
    count_entries();
    return nullptr;
  }
  if (now - e->renewed >= renew_after_) {
    e->renewed = now;
    renew(id);
  }
  SessionCounters::add(counters_.cache_hits);
  return &e->json;
}

asio::awaitable<SessionStore::Loaded> SessionStore::load(const SessionId& id) {
  Key key(id);
  std::array<std::string_view, 2> hgetall{"HGETALL", key.view()};
  std::array<std::string_view, 2> pttl{"PTTL", key.view()};
  std::array<std::span<const std::string_view>, 2> commands{hgetall, pttl};
  auto epoch = cache_.epoch();
  const std::uint32_t mark = writes_ ? writes_->mark(id) : 0;
  if (cache_.enabled()) SessionCounters::add(counters_.cache_misses);
  auto [ec, replies] = co_await client_.async_pipeline(commands, nothrow);
  Loaded out;
  if (ec) {
    out.ec = ec;
    co_return out;
  }
  if (replies[0].kind != RedisReply::Kind::array || replies[1].kind != RedisReply::Kind::integer) {
    out.ec = RedisErrc::bad_reply;
    co_return out;
  }
  if (replies[0].items.empty()) co_return out;  // no such session
  out.found = true;
  out.json = session_json(replies[0].items);
  long long left_ms = replies[1].integer;  // -1: no expiry (written by something else)
  if (left_ms == -2) co_return out;  // deleted right after the read: not kept
  auto now = clock::now();
  auto renewed = now;
  if (left_ms >= 0) {
    renewed = now - (ttl_ - std::chrono::duration_cast<clock::duration>(
                                std::chrono::milliseconds(left_ms)));
    if (now - renewed >= renew_after_) {
      renew(id);
      renewed = now;
    }
  }
  if (header_safe(out.json)) {
    cache_.store(id, out.json, renewed, epoch, mark);
    count_entries();
  }
  co_return out;
}

asio::awaitable<std::pair<error_code, SessionStore::Updated>> SessionStore::update(
    const SessionId& id, bool create, std::span<const SessionField> fields) {
  // Our own writes are not echoed back (NOLOOP): drop the copy now, and again once written so
  // that a load answered in between is not kept either.
  cache_.erase(id);
  Key key(id);
  std::vector<std::string_view> args{"EVALSHA",  update_sha(), "1",
                                     key.view(), ttl_ms_,      create ? "1" : "0"};
  args.reserve(args.size() + 2 * fields.size());
  for (const auto& f : fields) {
    args.push_back(f.name);
    args.push_back(f.value);
  }
  auto [ec, reply] = co_await client_.async_command(args, nothrow);
  cache_.erase(id);
  if (writes_) writes_->written(id);  // before the answer goes out: other threads' copies too
  count_entries();
  if (ec) co_return std::pair{ec, Updated::gone};
  if (reply.kind != RedisReply::Kind::integer)
    co_return std::pair{error_code(RedisErrc::bad_reply), Updated::gone};
  if (reply.integer == -1) co_return std::pair{error_code{}, Updated::gone};
  if (reply.integer == -2) co_return std::pair{error_code{}, Updated::taken};
  co_return std::pair{error_code{}, Updated::applied};
}

asio::awaitable<error_code> SessionStore::clear(const SessionId& id) {
  cache_.erase(id);
  Key key(id);
  std::array<std::string_view, 2> args{"DEL", key.view()};
  auto [ec, reply] = co_await client_.async_command(args, nothrow);
  cache_.erase(id);
  if (writes_) writes_->written(id);
  count_entries();
  co_return ec;
}

}  // namespace corral::session
