#include "session/session_id.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace corral::session {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::optional<SessionId> generate_session_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return std::nullopt;
  SessionId id;
  std::size_t out = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      id.text[out++] = alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) id.text[out++] = alphabet[(acc << (6 - bits)) & 63];  // 2 bits, 4 zero bits
  return id;
}

std::optional<SessionId> parse_session_id(std::string_view text) {
  if (text.size() != session_id_size) return std::nullopt;
  for (char c : text)
    if (value_of(c) < 0) return std::nullopt;
  // 128 bits fill 21 characters and 2 bits of the last: its low 4 bits must be zero.
  if ((value_of(text.back()) & 0x0f) != 0) return std::nullopt;
  SessionId id;
  std::copy(text.begin(), text.end(), id.text.begin());
  return id;
}

}  // namespace corral::session
