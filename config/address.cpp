#include "config/address.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

namespace corral::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits on every `separator`, keeping empty parts.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// Dotted quad, no leading zeros (inet_pton's rule): "10.0.0.1".
bool is_ipv4(std::string_view text) {
  auto parts = split(text, '.');
  if (parts.size() != 4) return false;
  for (std::string_view part : parts) {
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), is_digit)) {
      return false;
    }
    if (part.size() > 1 && part.front() == '0') return false;
    int value = 0;
    std::from_chars(part.data(), part.data() + part.size(), value);
    if (value > 255) return false;
  }
  return true;
}

// Counts the 16-bit groups of one side of "::"; -1 when malformed. An IPv4 tail counts as two.
int ipv6_groups(std::string_view side, bool ipv4_tail_allowed) {
  if (side.empty()) return 0;
  auto groups = split(side, ':');
  int count = 0;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    std::string_view group = groups[i];
    if (ipv4_tail_allowed && i + 1 == groups.size() && group.find('.') != group.npos) {
      if (!is_ipv4(group)) return -1;
      count += 2;
    } else if (group.empty() || group.size() > 4 ||
               !std::all_of(group.begin(), group.end(), is_hex_digit)) {
      return -1;
    } else {
      count += 1;
    }
  }
  return count;
}

// RFC 4291 text form, optionally with a zone: "::1", "2001:db8::8:800:200c:417a", "fe80::1%eth0".
bool is_ipv6(std::string_view text) {
  if (auto percent = text.find('%'); percent != text.npos) {
    std::string_view zone = text.substr(percent + 1);
    if (zone.empty() || !std::all_of(zone.begin(), zone.end(), [](char c) {
          return is_alnum(c) || c == '-' || c == '_' || c == '.';
        })) {
      return false;
    }
    text = text.substr(0, percent);
  }
  auto gap = text.find("::");
  if (gap == text.npos) return ipv6_groups(text, true) == 8;
  if (text.find("::", gap + 1) != text.npos) return false;
  int before = ipv6_groups(text.substr(0, gap), false);
  int after = ipv6_groups(text.substr(gap + 2), true);
  return before >= 0 && after >= 0 && before + after <= 7;
}

// A DNS name or an IPv4 address: "localhost", "api.internal", "10.0.0.1".
bool is_host(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  if (std::all_of(text.begin(), text.end(), [](char c) { return is_digit(c) || c == '.'; })) {
    return is_ipv4(text);
  }
  if (text.back() == '.') text.remove_suffix(1);  // fully qualified "example.com."
  for (std::string_view label : split(text, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_'; })) {
      return false;
    }
  }
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), is_digit)) {
    return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<Address> parse_address(std::string_view text) {
  text = trim(text);
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == text.npos || text.substr(close + 1, 1) != ":") return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (!is_ipv6(host)) return std::nullopt;
  } else {
    auto colon = text.rfind(':');
    if (colon == text.npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (!is_host(host)) return std::nullopt;  // also refuses an IPv6 address without brackets
  }
  auto port_number = parse_port(port);
  if (!port_number) return std::nullopt;
  return Address{std::string(host), *port_number, std::string(text)};
}

}  // namespace corral::config
