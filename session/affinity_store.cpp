#include "session/affinity_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

namespace corral::session {

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t key_bytes = max_affinity_prefix + 16;

// A Redis key on the stack.
struct Key {
  Key(std::string_view prefix, std::uint64_t fingerprint)
      : view(affinity_store_key(prefix, fingerprint, text.data())) {}
  std::array<char, key_bytes> text;
  std::string_view view;
};

}  // namespace

std::string_view affinity_store_key(std::string_view prefix, std::uint64_t fingerprint,
                                    char* out) {
  static constexpr char hex[] = "0123456789abcdef";
  std::copy(prefix.begin(), prefix.end(), out);
  char* digits = out + prefix.size();
  for (int i = 15; i >= 0; --i) {
    digits[i] = hex[fingerprint & 15];
    fingerprint >>= 4;
  }
  return {out, prefix.size() + 16};
}

std::optional<balancer::SlotId> parse_affinity_slot(std::string_view text,
                                                    std::size_t slot_limit) {
  balancer::SlotId slot = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), slot);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || slot >= slot_limit)
    return std::nullopt;
  return slot;
}

AffinityStore::AffinityStore(asio::io_context& ioc, const config::Sticky& cfg,
                             std::string connect_host, std::size_t slot_limit)
    : cfg_(cfg),
      slot_limit_(slot_limit),
      ttl_ms_(cfg.idle_ttl.count() > 0 ? std::to_string(cfg.idle_ttl.count()) : std::string()),
      renew_every_(std::max<std::chrono::steady_clock::duration>(cfg.idle_ttl / 4,
                                                                 std::chrono::seconds(1))),
      client_(ioc, RedisClient::Options{cfg.redis,
                                        std::move(connect_host),
                                        cfg.connect_timeout,
                                        cfg.command_timeout,
                                        {},
                                        "sticky store"}),
      counters_(std::make_shared<AffinityStoreCounters>()) {}

asio::awaitable<AffinityStore::Lookup> AffinityStore::lookup(std::uint64_t fingerprint) {
  Key key(cfg_.store_prefix, fingerprint);
  if (!ttl_ms_.empty()) {
    // Pipelined ahead of the GET: both are answered in the one round trip the GET waits for.
    std::array<std::string_view, 3> renew{"PEXPIRE", key.view, ttl_ms_};
    send(renew, nullptr);
  }
  std::array<std::string_view, 2> args{"GET", key.view};
  auto [ec, reply] = co_await client_.async_command(args, nothrow);
  Lookup out;
  if (!ec && reply.kind == RedisReply::Kind::string) {
    out.slot = parse_affinity_slot(reply.text, slot_limit_);
  } else if (!ec && reply.kind != RedisReply::Kind::nil) {
    ec = RedisErrc::bad_reply;
  }
  out.ec = ec;
  auto& c = *counters_;
  RedisStats::add(ec ? c.failed : out.slot ? c.found : c.absent);
  co_return out;
}

void AffinityStore::save(std::uint64_t fingerprint, balancer::SlotId slot) {
  Key key(cfg_.store_prefix, fingerprint);
  std::array<char, 12> digits;
  auto end = std::to_chars(digits.data(), digits.data() + digits.size(), slot).ptr;
  std::string_view value(digits.data(), static_cast<std::size_t>(end - digits.data()));
  if (ttl_ms_.empty()) {
    std::array<std::string_view, 3> args{"SET", key.view, value};
    send(args, &AffinityStoreCounters::written);
  } else {
    std::array<std::string_view, 5> args{"SET", key.view, value, "PX", ttl_ms_};
    send(args, &AffinityStoreCounters::written);
  }
}

void AffinityStore::erase(std::uint64_t fingerprint) {
  Key key(cfg_.store_prefix, fingerprint);
  std::array<std::string_view, 2> args{"DEL", key.view};
  send(args, &AffinityStoreCounters::erased);
}

void AffinityStore::renew(std::uint64_t fingerprint, TimePoint now) {
  if (ttl_ms_.empty()) return;
  auto& seen = renewed_[fingerprint % renewed_.size()];
  if (seen.fingerprint == fingerprint && now - seen.at < renew_every_) return;
  seen = {fingerprint, now};
  Key key(cfg_.store_prefix, fingerprint);
  std::array<std::string_view, 3> args{"PEXPIRE", key.view, ttl_ms_};
  send(args, &AffinityStoreCounters::renewed);
}

void AffinityStore::send(std::span<const std::string_view> args,
                         std::atomic<std::uint64_t> AffinityStoreCounters::*done) {
  client_.async_command(args, [counters = counters_, done](error_code ec, const RedisReply&) {
    if (ec)
      RedisStats::add(counters->failed);
    else if (done)
      RedisStats::add((*counters).*done);
  });
}

}  // namespace corral::session
