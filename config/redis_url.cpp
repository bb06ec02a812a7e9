#include "config/redis_url.hpp"

#include <charconv>

namespace corral::config {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding of the userinfo part (RFC 3986 §2.1); false on a broken escape.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_digit(in[i + 1]);
    int lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

template <class T>
bool parse_number(std::string_view text, T& value) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto [next, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && next == text.data() + text.size();
}

}  // namespace

std::variant<RedisTarget, std::string> parse_redis_url(std::string_view text) {
  RedisTarget target;
  std::string_view rest;
  if (text.starts_with("redis://")) {
    rest = text.substr(8);
  } else if (text.starts_with("rediss://")) {
    target.tls = true;
    rest = text.substr(9);
  } else {
    return std::string("expected a URL starting with redis:// (or rediss:// for TLS)");
  }
  if (auto q = rest.find_first_of("?#"); q != std::string_view::npos)
    return std::string("query parameters and fragments are not supported in the Redis URL");

  // The database: "/N" after the authority; "/" alone or nothing means 0.
  std::string_view authority = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number(db, target.db))
      return std::string("the database after '/' must be a whole number");
  }

  // User and password: everything up to the last '@' (a password may contain '@' unescaped).
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view user = userinfo;
    std::string_view password;
    bool has_password = false;
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      password = userinfo.substr(colon + 1);
      has_password = true;
    }
    if (!percent_decode(user, target.user) || !percent_decode(password, target.password))
      return std::string("a broken %-escape in the user or password");
    if (!has_password && !target.user.empty()) {
      // "redis://secret@host": the form redis-cli and most clients read as a password alone.
      target.password = std::move(target.user);
      target.user.clear();
    }
  }

  // Host and port.
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("an IPv6 host is missing its ']'");
    target.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::string("expected ':port' after the IPv6 host");
      port = after.substr(1);
      if (port.empty()) return std::string("an empty port");
    }
  } else {
    auto colon = authority.find(':');
    target.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.find(':') != std::string_view::npos)
        return std::string("an IPv6 host needs brackets, as in redis://[::1]:6379");
      if (port.empty()) return std::string("an empty port");
    }
  }
  if (target.host.empty()) return std::string("the URL has no host");
  if (!port.empty()) {
    unsigned value = 0;
    if (!parse_number(port, value) || value == 0 || value > 65535)
      return std::string("the port must be 1..65535");
    target.port = static_cast<std::uint16_t>(value);
  }
  return target;
}

}  // namespace corral::config
