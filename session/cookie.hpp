#pragma once
// Parsing of Cookie and Set-Cookie header values (RFC 6265), pure and allocation-free.
#include <optional>
#include <string_view>

namespace corral::session {

// The value of cookie `name` in a Cookie request header value ("a=1; b=2"), or nothing.
std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name);

// A Set-Cookie response header value, split.
struct SetCookie {
  std::string_view name;
  std::string_view value;
  bool deletes = false;  // Max-Age<=0, or Expires in the past relative to `now_unix`
};
std::optional<SetCookie> parse_set_cookie(std::string_view set_cookie_header, long long now_unix);

}  // namespace corral::session
