#include "session/affinity_cookie.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace corral::session {

namespace {

// Domain separation: this key's MACs mean "an affinity cookie of format 1" and nothing else.
constexpr std::string_view mac_context = "corral affinity cookie v1\n";
constexpr std::size_t mac_text_size = 43;  // base64url of 32 bytes, unpadded

void base64url(const unsigned char (&in)[32], char* out) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 3 <= 32; i += 3) {
    const unsigned v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = alphabet[v & 63];
  }
  const unsigned v = (in[30] << 16) | (in[31] << 8);  // the last two bytes: three characters
  out[o++] = alphabet[(v >> 18) & 63];
  out[o++] = alphabet[(v >> 12) & 63];
  out[o++] = alphabet[(v >> 6) & 63];
}

// An unsigned decimal of 1..max_digits digits, nothing else.
template <class T>
std::optional<T> parse_decimal(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits || s.front() < '0' || s.front() > '9') return std::nullopt;
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

class Writer {
 public:
  explicit Writer(CookieText& text) : text_(text) {}
  void add(std::string_view s) {
    std::memcpy(text_.data.data() + text_.size, s.data(), s.size());
    text_.size += s.size();
  }
  template <class T>
  void number(T v) {
    const auto [end, ec] =
        std::to_chars(text_.data.data() + text_.size, text_.data.data() + text_.data.size(), v);
    text_.size = static_cast<std::size_t>(end - text_.data.data());
  }

 private:
  CookieText& text_;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_named(std::string_view pair, std::string_view name) {
  const auto eq = pair.find('=');
  return eq != std::string_view::npos && trim(pair.substr(0, eq)) == name;
}

}  // namespace

AffinityCookie::AffinityCookie(std::string_view key)
    : AffinityCookie(std::span<const unsigned char>(
          reinterpret_cast<const unsigned char*>(key.data()), key.size())) {}

AffinityCookie::AffinityCookie(std::span<const unsigned char> key) {
  if (key.size() < min_key_size)
    throw std::invalid_argument("affinity cookie key must be at least 16 bytes");
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac) ctx_ = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context keeps its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!ctx_ || EVP_MAC_init(ctx_, key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx_);
    throw std::runtime_error("OpenSSL cannot set up HMAC-SHA256");
  }
}

AffinityCookie::AffinityCookie(const AffinityCookie& other) : ctx_(EVP_MAC_CTX_dup(other.ctx_)) {
  if (!ctx_) throw std::runtime_error("OpenSSL cannot copy an HMAC context");
}

AffinityCookie::~AffinityCookie() { EVP_MAC_CTX_free(ctx_); }

void AffinityCookie::sign(std::string_view text, unsigned char (&mac)[32]) {
  // A null key re-initialises the context with the key it already holds (OpenSSL 3).
  std::size_t size = 0;
  const bool ok =
      EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1 &&
      EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(mac_context.data()),
                     mac_context.size()) == 1 &&
      EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1 &&
      EVP_MAC_final(ctx_, mac, &size, sizeof mac) == 1 && size == sizeof mac;
  // Cannot fail once initialised; if it did, a zero MAC would never verify, and sign is our
  // own output only: fail closed.
  if (!ok) std::memset(mac, 0, sizeof mac);
}

CookieText AffinityCookie::value(SlotId slot, long long expiry_unix) {
  CookieText text;
  Writer w(text);
  w.number(slot);
  w.add(".");
  w.number(expiry_unix);
  unsigned char mac[32];
  sign(text.view(), mac);
  w.add(".");
  base64url(mac, text.data.data() + text.size);
  text.size += mac_text_size;
  return text;
}

AffinityCookieCheck AffinityCookie::verify(std::string_view value, long long now_unix) {
  AffinityCookieCheck check;
  const auto second_dot = value.rfind('.');
  if (second_dot == std::string_view::npos) return check;
  const std::string_view signed_text = value.substr(0, second_dot);
  const std::string_view mac_text = value.substr(second_dot + 1);
  const auto first_dot = signed_text.find('.');
  if (first_dot == std::string_view::npos || mac_text.size() != mac_text_size) return check;
  const auto slot = parse_decimal<SlotId>(signed_text.substr(0, first_dot), 10);
  const auto expiry = parse_decimal<long long>(signed_text.substr(first_dot + 1), 18);
  if (!slot || !expiry) return check;

  // Direct-mapped by the MAC's first characters, which are as random as the MAC.
  std::uint64_t index = 0;
  std::memcpy(&index, mac_text.data(), sizeof index);
  Genuine& seen = genuine_[index % genuine_.size()];
  const bool known = seen.size == value.size() &&
                     CRYPTO_memcmp(seen.text.data(), value.data(), value.size()) == 0;
  if (!known) {
    unsigned char mac[32];
    sign(signed_text, mac);
    char expected[mac_text_size];
    base64url(mac, expected);
    if (CRYPTO_memcmp(expected, mac_text.data(), mac_text_size) != 0) {
      check.status = AffinityCookieStatus::forged;
      return check;
    }
    if (value.size() <= seen.text.size()) {
      std::memcpy(seen.text.data(), value.data(), value.size());
      seen.size = value.size();
    }
  }
  check.expiry_unix = *expiry;
  if (*expiry <= now_unix) {
    check.status = AffinityCookieStatus::expired;
    return check;
  }
  check.slot = *slot;
  check.status = AffinityCookieStatus::valid;
  return check;
}

CookieText AffinityCookie::set_cookie(SlotId slot, long long now_unix, std::chrono::seconds max_age,
                                      bool secure) {
  const CookieText v = value(slot, now_unix + max_age.count());
  CookieText text;
  Writer w(text);
  w.add(affinity_cookie_name);
  w.add("=");
  w.add(v.view());
  w.add("; Max-Age=");
  w.number(max_age.count());
  w.add("; Path=/; HttpOnly; SameSite=Lax");
  if (secure) w.add("; Secure");
  return text;
}

bool AffinityCookie::needs_refresh(long long expiry_unix, long long now_unix,
                                   std::chrono::seconds max_age) {
  return (expiry_unix - now_unix) * 2 < max_age.count();
}

std::optional<std::string_view> strip_cookie(std::string_view cookie_header, std::string_view name,
                                             std::span<char> buffer) {
  // The result is the pairs that are not ours, joined by ';' as they were, trimmed. When those
  // pairs are contiguous in the header (empty pairs aside) that is a substring of it.
  std::size_t kept_begin = std::string_view::npos, kept_end = 0;
  bool dropped_any = false, gap = false;  // gap: one of ours lies between two kept pairs
  bool dropped_since_kept = false;
  for (std::size_t begin = 0; begin <= cookie_header.size();) {
    auto end = cookie_header.find(';', begin);
    if (end == std::string_view::npos) end = cookie_header.size();
    const auto pair = cookie_header.substr(begin, end - begin);
    if (trim(pair).empty()) {
      // Empty pairs (";;", a trailing ';') are neither kept nor ours: they go.
    } else if (is_named(pair, name)) {
      dropped_any = dropped_since_kept = true;
    } else {
      if (kept_begin == std::string_view::npos)
        kept_begin = begin;
      else if (dropped_since_kept)
        gap = true;
      kept_end = end;
      dropped_since_kept = false;
    }
    begin = end + 1;
  }
  if (!dropped_any) return cookie_header;
  if (kept_begin == std::string_view::npos) return std::string_view{};
  if (!gap) return trim(cookie_header.substr(kept_begin, kept_end - kept_begin));

  // Kept pairs plus one ';' fewer than there were pairs: always shorter than the header.
  if (buffer.size() < cookie_header.size()) return std::nullopt;
  std::size_t size = 0;
  bool first = true;
  for (std::size_t begin = 0; begin <= cookie_header.size();) {
    auto end = cookie_header.find(';', begin);
    if (end == std::string_view::npos) end = cookie_header.size();
    const auto pair = cookie_header.substr(begin, end - begin);
    if (!trim(pair).empty() && !is_named(pair, name)) {
      if (!first) buffer[size++] = ';';
      std::memcpy(buffer.data() + size, pair.data(), pair.size());
      size += pair.size();
      first = false;
    }
    begin = end + 1;
  }
  return trim(std::string_view(buffer.data(), size));
}

}  // namespace corral::session
