#include "config/address.hpp"

#include <gtest/gtest.h>

namespace corral::config {
namespace {

TEST(ParseAddress, Ipv4) {
  auto address = parse_address("127.0.0.1:8080");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 8080);
  EXPECT_EQ(address->text, "127.0.0.1:8080");
}

TEST(ParseAddress, HostName) {
  auto address = parse_address("localhost:80");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, "localhost");
  EXPECT_EQ(address->port, 80);
  EXPECT_TRUE(parse_address("api.internal:3000"));
  EXPECT_TRUE(parse_address("my_service-1.default.svc:3000"));
}

TEST(ParseAddress, PortRange) {
  EXPECT_EQ(parse_address("0.0.0.0:0")->port, 0);
  EXPECT_EQ(parse_address("0.0.0.0:65535")->port, 65535);
  EXPECT_FALSE(parse_address("0.0.0.0:65536"));
  EXPECT_FALSE(parse_address("0.0.0.0:-1"));
  EXPECT_FALSE(parse_address("0.0.0.0:80a"));
  EXPECT_FALSE(parse_address("0.0.0.0:123456"));
}

TEST(ParseAddress, Ipv6InBrackets) {
  auto loopback = parse_address("[::1]:8080");
  ASSERT_TRUE(loopback);
  EXPECT_EQ(loopback->host, "::1");
  EXPECT_EQ(loopback->port, 8080);
  EXPECT_EQ(loopback->text, "[::1]:8080");

  EXPECT_EQ(parse_address("[::]:0")->host, "::");
  EXPECT_EQ(parse_address("[2001:db8::8:800:200c:417a]:443")->host, "2001:db8::8:800:200c:417a");
  EXPECT_EQ(parse_address("[2001:db8:0:0:0:0:0:1]:443")->host, "2001:db8:0:0:0:0:0:1");
  EXPECT_EQ(parse_address("[::ffff:192.0.2.1]:80")->host, "::ffff:192.0.2.1");
  EXPECT_EQ(parse_address("[fe80::1%eth0]:80")->host, "fe80::1%eth0");
}

TEST(ParseAddress, RejectsBadIpv6) {
  EXPECT_FALSE(parse_address("::1:8080"));  // needs brackets
  EXPECT_FALSE(parse_address("[::1]"));     // no port
  EXPECT_FALSE(parse_address("[::1]8080"));
  EXPECT_FALSE(parse_address("[::1:8080"));
  EXPECT_FALSE(parse_address("[1::2::3]:80"));        // "::" twice
  EXPECT_FALSE(parse_address("[12345::1]:80"));       // group too long
  EXPECT_FALSE(parse_address("[1:2:3:4:5:6:7]:80"));  // too few groups without "::"
  EXPECT_FALSE(parse_address("[1:2:3:4:5:6:7:8:9]:80"));
  EXPECT_FALSE(parse_address("[127.0.0.1]:80"));
  EXPECT_FALSE(parse_address("[]:80"));
  EXPECT_FALSE(parse_address("[fe80::1%]:80"));
}

TEST(ParseAddress, RejectsMissingParts) {
  EXPECT_FALSE(parse_address(""));
  EXPECT_FALSE(parse_address("127.0.0.1"));
  EXPECT_FALSE(parse_address("127.0.0.1:"));
  EXPECT_FALSE(parse_address(":8080"));
  EXPECT_FALSE(parse_address("localhost"));
}

TEST(ParseAddress, RejectsBadHosts) {
  EXPECT_FALSE(parse_address("256.0.0.1:80"));
  EXPECT_FALSE(parse_address("1.2.3:80"));
  EXPECT_FALSE(parse_address("1.2.3.4.5:80"));
  EXPECT_FALSE(parse_address("01.2.3.4:80"));
  EXPECT_FALSE(parse_address("-bad.example:80"));
  EXPECT_FALSE(parse_address("a..b:80"));
  EXPECT_FALSE(parse_address("http://x:80"));
  EXPECT_FALSE(parse_address("exa mple:80"));
}

}  // namespace
}  // namespace corral::config
