#pragma once
// Session ids: 128 bits from OpenSSL's CSPRNG, written as 22 characters of unpadded base64url.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace corral::session {

inline constexpr std::size_t session_id_size = 22;  // ceil(128 / 6)

// A session id as text, held by value (no allocation).
struct SessionId {
  std::array<char, session_id_size> text{};
  std::string_view view() const { return {text.data(), text.size()}; }
};

// A fresh id; nothing when the CSPRNG fails (the caller answers without a session).
std::optional<SessionId> generate_session_id();

// The id in a cookie value, when it has the shape of one (22 base64url characters whose last
// one carries no stray bits); anything else is no session and costs no Redis lookup.
std::optional<SessionId> parse_session_id(std::string_view text);

}  // namespace corral::session
