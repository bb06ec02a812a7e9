#include "config/cidr.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>

namespace corral::config {
namespace {

// The longest text of an address: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
constexpr std::size_t max_address_chars = 45;
// Bits of the ::ffff:0:0/96 prefix that IPv4 addresses are kept under.
constexpr unsigned v4_mapped_bits = 96;

// The text of an address, with the family it was written in.
struct Parsed {
  IpAddress address;
  bool v4 = false;
};

std::optional<Parsed> parse(std::string_view text) {
  if (text.empty() || text.size() > max_address_chars) return std::nullopt;
  // make_address would read a zone (%eth0) and look the interface up; neither belongs here.
  // Blanks are refused too: inet_pton stops at none of them, but a caller's text must be exact.
  for (char c : text) {
    const bool allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                         (c >= 'A' && c <= 'F') || c == '.' || c == ':';
    if (!allowed) return std::nullopt;
  }
  std::array<char, max_address_chars + 1> z{};  // make_address needs a terminated string
  std::copy(text.begin(), text.end(), z.begin());
  boost::system::error_code ec;
  const boost::asio::ip::address a = boost::asio::ip::make_address(z.data(), ec);
  if (ec) return std::nullopt;
  if (a.is_v4()) return Parsed{IpAddress::from_v4(a.to_v4().to_bytes()), true};
  return Parsed{IpAddress{a.to_v6().to_bytes()}, false};
}

// Keeps the top `prefix` bits of `address` and clears the rest.
IpAddress masked(IpAddress address, unsigned prefix) {
  for (unsigned i = 0; i < address.bytes.size(); ++i) {
    const unsigned first_bit = i * 8;
    if (prefix >= first_bit + 8) continue;
    const unsigned keep = prefix > first_bit ? prefix - first_bit : 0;
    address.bytes[i] &= static_cast<std::uint8_t>(0xff00u >> keep);
  }
  return address;
}

}  // namespace

IpAddress IpAddress::from_v4(std::array<std::uint8_t, 4> v4) {
  IpAddress a;
  a.bytes[10] = 0xff;
  a.bytes[11] = 0xff;
  std::copy(v4.begin(), v4.end(), a.bytes.begin() + 12);
  return a;
}

bool Cidr::contains(const IpAddress& address) const {
  return masked(address, prefix) == network;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (auto parsed = parse(text)) return parsed->address;
  return std::nullopt;
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string* error) {
  auto fail = [&](std::string_view why) -> std::optional<Cidr> {
    if (error) *error = why;
    return std::nullopt;
  };
  const auto slash = text.find('/');
  auto parsed = parse(text.substr(0, slash));
  if (!parsed) return fail("");
  const unsigned max_prefix = parsed->v4 ? 32 : 128;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const char* end = digits.data() + digits.size();
    auto [next, ec] = std::from_chars(digits.data(), end, prefix);
    const bool plain = !digits.empty() && digits.size() <= 3 &&
                       std::all_of(digits.begin(), digits.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
    if (!plain || ec != std::errc{} || next != end || prefix > max_prefix)
      return fail(parsed->v4 ? "an IPv4 prefix is 0..32" : "an IPv6 prefix is 0..128");
  }
  if (parsed->v4) prefix += v4_mapped_bits;
  return Cidr{masked(parsed->address, prefix), prefix, std::string(text)};
}

bool contains_any(std::span<const Cidr> ranges, const IpAddress& address) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const Cidr& range) { return range.contains(address); });
}

}  // namespace corral::config
