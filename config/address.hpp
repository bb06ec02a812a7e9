#pragma once
// "host:port" and "[ipv6]:port" as written in the config file.
#include <optional>
#include <string_view>

#include "config/config.hpp"

namespace corral::config {

// Accepts "127.0.0.1:8080", "localhost:80", "[::1]:8080", "[fe80::1%eth0]:80"; port 0..65535
// (0 = any free port, meaningful for listeners). Rejects a missing port or host, a bare IPv6
// address without brackets, and malformed IPv4 addresses. Names are not resolved.
std::optional<Address> parse_address(std::string_view text);

}  // namespace corral::config
