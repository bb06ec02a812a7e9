#pragma once
// IP addresses and CIDR ranges as written in the config (trusted_proxies) or in an
// X-Forwarded-For entry: parsing and membership, with no allocation and no I/O.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace corral::config {

// An IP address as 16 bytes: IPv6 as it is, IPv4 in its IPv4-mapped form (::ffff:a.b.c.d). One
// form for both families lets a dual-stack listener's mapped peer (::ffff:10.1.2.3) match an
// IPv4 range with the same comparison.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};

  static IpAddress from_v4(std::array<std::uint8_t, 4> v4);
  bool operator==(const IpAddress&) const = default;
};

// An address range: a network and its prefix length. The prefix counts over the 16-byte form,
// so an IPv4 /8 is kept as /104 (96 bits of the ::ffff:0:0/96 prefix, then 8).
struct Cidr {
  IpAddress network;    // host bits cleared
  unsigned prefix = 0;  // 0..128
  std::string text;     // as written, for messages

  bool contains(const IpAddress& address) const;
};

// A bare IPv4 address in dotted-quad form or an IPv6 address; no brackets, zone (%eth0), port
// or surrounding blanks. Texts longer than any address are refused without being read.
std::optional<IpAddress> parse_ip(std::string_view text);

// "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). Host bits below the prefix are
// cleared ("10.1.2.3/8" is 10.0.0.0/8), as Go's net.ParseCIDR and nginx's set_real_ip_from do.
// On failure `error` (when given) says why, e.g. "an IPv4 prefix is 0..32".
std::optional<Cidr> parse_cidr(std::string_view text, std::string* error = nullptr);

// Whether any of `ranges` holds `address`.
bool contains_any(std::span<const Cidr> ranges, const IpAddress& address);

}  // namespace corral::config
