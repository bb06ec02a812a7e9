#include "session/session_store.hpp"

#include <openssl/sha.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

namespace corral::session {

// KEYS[1] the session, ARGV[1] the TTL in ms. Fields are stored as JSON text under their name
// as a JSON string, so the object is put together by concatenation. The field `v` (a plain
// name no JSON field can have) counts the updates and keeps an empty session existing.
const char* const session_load_script = R"(local f = redis.call('HGETALL', KEYS[1])
if #f == 0 then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local out = {}
for i = 1, #f, 2 do
  if f[i] ~= 'v' then out[#out + 1] = f[i] .. ':' .. f[i + 1] end
end
return '{' .. table.concat(out, ',') .. '}'
)";

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

const std::string& load_sha() {
  static const std::string sha = sha1_hex(session_load_script);
  return sha;
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

}  // namespace

SessionStore::SessionStore(asio::io_context& ioc, const config::Sessions& cfg,
                           std::string connect_host)
    : cfg_(cfg),
      ttl_ms_(std::to_string(cfg.ttl.count())),
      client_(ioc, RedisClient::Options{cfg.redis,
                                        std::move(connect_host),
                                        cfg.connect_timeout,
                                        cfg.command_timeout,
                                        {session_load_script, session_update_script}}) {}

asio::awaitable<SessionStore::Loaded> SessionStore::load(const SessionId& id) {
  Key key(id);
  std::array<std::string_view, 5> args{"EVALSHA", load_sha(), "1", key.view(), ttl_ms_};
  auto [ec, reply] = co_await client_.async_command(args, nothrow);
  Loaded out;
  if (ec) {
    out.ec = ec;
  } else if (reply.kind == RedisReply::Kind::string) {
    out.found = true;
    out.json = std::move(reply.text);
  } else if (reply.kind != RedisReply::Kind::nil) {
    out.ec = RedisErrc::bad_reply;
  }
  co_return out;
}

asio::awaitable<std::pair<error_code, SessionStore::Updated>> SessionStore::update(
    const SessionId& id, bool create, std::span<const SessionField> fields) {
  Key key(id);
  std::vector<std::string_view> args{"EVALSHA",  update_sha(), "1",
                                     key.view(), ttl_ms_,      create ? "1" : "0"};
  args.reserve(args.size() + 2 * fields.size());
  for (const auto& f : fields) {
    args.push_back(f.name);
    args.push_back(f.value);
  }
  auto [ec, reply] = co_await client_.async_command(args, nothrow);
  if (ec) co_return std::pair{ec, Updated::gone};
  if (reply.kind != RedisReply::Kind::integer)
    co_return std::pair{error_code(RedisErrc::bad_reply), Updated::gone};
  if (reply.integer == -1) co_return std::pair{error_code{}, Updated::gone};
  if (reply.integer == -2) co_return std::pair{error_code{}, Updated::taken};
  co_return std::pair{error_code{}, Updated::applied};
}

asio::awaitable<error_code> SessionStore::clear(const SessionId& id) {
  Key key(id);
  std::array<std::string_view, 2> args{"DEL", key.view()};
  auto [ec, reply] = co_await client_.async_command(args, nothrow);
  co_return ec;
}

}  // namespace corral::session
