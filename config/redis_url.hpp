#pragma once
// "redis://[user:password@]host[:port][/db]" as written in sessions.redis.
#include <string>
#include <string_view>
#include <variant>

#include "config/config.hpp"

namespace corral::config {

// Parses a Redis URL. User and password are percent-decoded; the port defaults to 6379 and the
// database to 0. An IPv6 host needs brackets. Returns the parsed target or a message that says
// what is wrong (the URL itself is not repeated in it: it may hold a password).
std::variant<RedisTarget, std::string> parse_redis_url(std::string_view text);

}  // namespace corral::config
