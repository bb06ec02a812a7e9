// Addresses and CIDR ranges: parsing, and which addresses a range holds.
#include "config/cidr.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace corral::config {
namespace {

IpAddress ip(std::string_view text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

Cidr range(std::string_view text) {
  auto r = parse_cidr(text);
  EXPECT_TRUE(r) << text;
  return r.value_or(Cidr{});
}

TEST(ParseIp, Ipv4AndIpv6) {
  EXPECT_EQ(ip("10.1.2.3"), IpAddress::from_v4({10, 1, 2, 3}));
  IpAddress loopback6;
  loopback6.bytes[15] = 1;
  EXPECT_EQ(ip("::1"), loopback6);
  EXPECT_EQ(ip("2001:DB8::1"), ip("2001:db8::1"));
  EXPECT_TRUE(parse_ip("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"));
}

TEST(ParseIp, MappedIpv6IsTheIpv4Address) {
  EXPECT_EQ(ip("::ffff:10.1.2.3"), ip("10.1.2.3"));
  EXPECT_EQ(ip("::ffff:a01:203"), ip("10.1.2.3"));
}

TEST(ParseIp, RefusesAnythingButABareAddress) {
  for (std::string_view bad :
       {"", " 10.1.2.3", "10.1.2.3 ", "10.1.2", "10.1.2.3.4", "256.1.1.1", "10.1.2.3:80",
        "[::1]", "::1%lo", "fe80::1%eth0", "localhost", "unknown", "1::2::3", "10.0.0.0/8",
        "0x0a.1.2.3", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555"}) {
    EXPECT_FALSE(parse_ip(bad)) << bad;
  }
}

TEST(ParseCidr, BareAddressIsASingleHost) {
  Cidr r = range("127.0.0.1");
  EXPECT_EQ(r.text, "127.0.0.1");
  EXPECT_EQ(r.prefix, 128u);  // /32 over the IPv4-mapped form
  EXPECT_TRUE(r.contains(ip("127.0.0.1")));
  EXPECT_FALSE(r.contains(ip("127.0.0.2")));
  Cidr r6 = range("::1");
  EXPECT_EQ(r6.prefix, 128u);
  EXPECT_TRUE(r6.contains(ip("::1")));
  EXPECT_FALSE(r6.contains(ip("::2")));
  EXPECT_FALSE(r6.contains(ip("127.0.0.1")));
}

TEST(ParseCidr, Ipv4Ranges) {
  Cidr r = range("10.0.0.0/8");
  EXPECT_TRUE(r.contains(ip("10.0.0.0")));
  EXPECT_TRUE(r.contains(ip("10.255.255.255")));
  EXPECT_FALSE(r.contains(ip("11.0.0.0")));
  EXPECT_FALSE(r.contains(ip("9.255.255.255")));
  Cidr odd = range("192.168.1.128/25");
  EXPECT_TRUE(odd.contains(ip("192.168.1.200")));
  EXPECT_FALSE(odd.contains(ip("192.168.1.127")));
  Cidr all = range("0.0.0.0/0");
  EXPECT_TRUE(all.contains(ip("203.0.113.9")));
  EXPECT_FALSE(all.contains(ip("2001:db8::1")));  // every IPv4 address, no IPv6 one
}

TEST(ParseCidr, Ipv6Ranges) {
  Cidr r = range("fd00::/8");
  EXPECT_TRUE(r.contains(ip("fd12:3456::1")));
  EXPECT_FALSE(r.contains(ip("fe00::1")));
  EXPECT_FALSE(r.contains(ip("10.0.0.1")));
  Cidr r61 = range("2001:db8::/61");
  EXPECT_TRUE(r61.contains(ip("2001:db8:0:7::1")));
  EXPECT_FALSE(r61.contains(ip("2001:db8:0:8::1")));
}

TEST(ParseCidr, MappedPeerMatchesIpv4Ranges) {
  Cidr r = range("10.0.0.0/8");
  EXPECT_TRUE(r.contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(r.contains(ip("::ffff:11.1.2.3")));
  // A range written in the mapped form is the same range.
  Cidr mapped = range("::ffff:10.0.0.0/104");
  EXPECT_EQ(mapped.network, r.network);
  EXPECT_EQ(mapped.prefix, r.prefix);
  EXPECT_TRUE(mapped.contains(ip("10.9.9.9")));
}

TEST(ParseCidr, HostBitsAreCleared) {
  Cidr r = range("10.1.2.3/8");
  EXPECT_EQ(r.network, ip("10.0.0.0"));
  EXPECT_EQ(r.text, "10.1.2.3/8");
  EXPECT_TRUE(r.contains(ip("10.200.0.1")));
  EXPECT_EQ(range("fd00:1:2::3/16").network, ip("fd00::"));
}

TEST(ParseCidr, BadInput) {
  std::string why;
  EXPECT_FALSE(parse_cidr("10.0.0.0/33", &why));
  EXPECT_EQ(why, "an IPv4 prefix is 0..32");
  EXPECT_FALSE(parse_cidr("::/129", &why));
  EXPECT_EQ(why, "an IPv6 prefix is 0..128");
  for (std::string_view bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/ 8",
        "10.0.0.0/08a", "10.0.0.0/0008", "10.0.0/8", "example.com/8", "[::1]/128", "fe80::%1/64",
        "10.0.0.0/99999999999999999999"}) {
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  }
  why.clear();
  EXPECT_FALSE(parse_cidr("example.com", &why));
  EXPECT_EQ(why, "");  // not an address at all: the caller's message says enough
}

TEST(ContainsAny, AnyRangeWill) {
  std::vector<Cidr> ranges{range("127.0.0.1"), range("10.0.0.0/8"), range("::1"),
                           range("fd00::/8")};
  EXPECT_TRUE(contains_any(ranges, ip("127.0.0.1")));
  EXPECT_TRUE(contains_any(ranges, ip("::ffff:127.0.0.1")));
  EXPECT_TRUE(contains_any(ranges, ip("10.3.3.3")));
  EXPECT_TRUE(contains_any(ranges, ip("::1")));
  EXPECT_TRUE(contains_any(ranges, ip("fdab::1")));
  EXPECT_FALSE(contains_any(ranges, ip("127.0.0.2")));
  EXPECT_FALSE(contains_any(ranges, ip("2001:db8::1")));
  EXPECT_FALSE(contains_any({}, ip("127.0.0.1")));
}

}  // namespace
}  // namespace corral::config
