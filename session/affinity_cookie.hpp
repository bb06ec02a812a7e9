#pragma once
// Insert mode: corral's own signed affinity cookie, `corral_affinity=<slot>.<expiry>.<mac>`.
#include <openssl/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "balancer/slot.hpp"

namespace corral::session {

using balancer::SlotId;

inline constexpr std::string_view affinity_cookie_name = "corral_affinity";

// A short text built without allocating: cookie values and Set-Cookie header values.
struct CookieText {
  // The longest Set-Cookie value (20-digit numbers, Secure) is 181 bytes.
  static constexpr std::size_t capacity = 192;
  std::array<char, capacity> data{};
  std::size_t size = 0;
  std::string_view view() const { return {data.data(), size}; }
};

enum class AffinityCookieStatus {
  valid,
  malformed,  // not <slot>.<expiry>.<mac> in our syntax
  forged,     // well formed, but the MAC does not match: tampered, or signed with another key
  expired,    // genuine, but its expiry has passed
};

struct AffinityCookieCheck {
  std::optional<SlotId> slot;  // only when valid
  long long expiry_unix = 0;   // only when valid or expired
  AffinityCookieStatus status = AffinityCookieStatus::malformed;
};

// Signs and checks affinity cookies with HMAC-SHA256 under a key that every corral instance of
// a deployment shares, so a cookie issued by one is honoured by all and by the next generation:
// insert mode keeps no state. The MAC covers "<slot>.<expiry>" after a fixed context string,
// so the key signs nothing else by accident; it is sent in base64url (43 characters). Checks
// compare in constant time (CRYPTO_memcmp).
//
// Holds a keyed OpenSSL MAC context that every call reuses: one instance per proxy thread (a
// copy makes a new context with the same key). A browser sends the same cookie with every
// request, so the last genuine values seen (64, direct-mapped by their MAC) are remembered and
// a value equal to one of them byte for byte is not signed again; its expiry is still checked.
class AffinityCookie {
 public:
  static constexpr std::size_t min_key_size = 16;

  // Throws std::invalid_argument when the key is shorter than min_key_size, std::runtime_error
  // when OpenSSL cannot set up HMAC-SHA256. Start-up only.
  explicit AffinityCookie(std::span<const unsigned char> key);
  explicit AffinityCookie(std::string_view key);
  AffinityCookie(const AffinityCookie& other);
  AffinityCookie& operator=(const AffinityCookie&) = delete;
  ~AffinityCookie();

  // The cookie value pinning to `slot` until `expiry_unix` (seconds since the epoch).
  CookieText value(SlotId slot, long long expiry_unix);

  // Reads a cookie value; only `valid` carries a slot. A cookie whose expiry is at or before
  // `now_unix` is expired, as browsers judge theirs.
  AffinityCookieCheck verify(std::string_view value, long long now_unix);

  // The Set-Cookie header value issuing a pin to `slot` for `max_age`:
  // corral_affinity=<value>; Max-Age=<s>; Path=/; HttpOnly; SameSite=Lax[; Secure]
  CookieText set_cookie(SlotId slot, long long now_unix, std::chrono::seconds max_age, bool secure);

  // True when a valid cookie has less than half of `max_age` left, so the response should
  // re-issue it: sessions in use stay pinned without a Set-Cookie on every response.
  static bool needs_refresh(long long expiry_unix, long long now_unix,
                            std::chrono::seconds max_age);

 private:
  void sign(std::string_view text, unsigned char (&mac)[32]);

  EVP_MAC_CTX* ctx_ = nullptr;

  // A value whose MAC matched. The longest value is 10 + 1 + 18 + 1 + 43 bytes.
  struct Genuine {
    std::array<char, 80> text;
    std::size_t size = 0;  // 0: empty
  };
  std::array<Genuine, 64> genuine_{};
};

// `cookie_header` (a Cookie request header value) without any `name=…` pair, so the app never
// sees corral's cookie. The result views `cookie_header` itself when the other pairs are
// contiguous (ours first or last, the usual case), else is written into `buffer`, which needs
// cookie_header.size() bytes; nothing when it is needed and shorter. An empty result means the
// header should be dropped. Names match whole and case-sensitively; the other pairs keep their
// text and order; empty pairs go.
std::optional<std::string_view> strip_cookie(std::string_view cookie_header, std::string_view name,
                                             std::span<char> buffer);

}  // namespace corral::session
