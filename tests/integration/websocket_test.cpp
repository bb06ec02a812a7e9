// Upgrade: websocket is tunnelled both ways after the 101. The backend echoes raw bytes, so
// the tunnel is checked byte for byte without WebSocket framing.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

std::string upgrade_request(const std::string& host) {
  return "GET /ws HTTP/1.1\r\nHost: " + host +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

TEST(WebSocket, UpgradeIsTunnelledBothWays) {
  Backend be("ws");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw(upgrade_request(client.host_header())));
  beast::error_code ec;
  std::string head = client.read_until("\r\n\r\n", ec);
  ASSERT_FALSE(ec) << ec.message() << "; got: " << head;
  ASSERT_EQ(raw_status(head), 101) << head;
  // RFC 6455's example key and its accept value.
  EXPECT_EQ(raw_header(head, "Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") << head;
  EXPECT_EQ(lower(raw_header(head, "Upgrade")), "websocket") << head;
  EXPECT_NE(lower(raw_header(head, "Connection")).find("upgrade"), std::string::npos) << head;

  // Small messages, one at a time.
  for (int i = 0; i < 5; ++i) {
    const std::string msg = "ping " + std::to_string(i) + " \x81\x00 raw bytes";
    ASSERT_FALSE(client.send_raw(msg));
    EXPECT_EQ(client.read_exactly(msg.size(), ec), msg);
    ASSERT_FALSE(ec) << ec.message();
  }
  // A larger burst, more than the socket buffers hold: sending it all before reading the
  // echo needs corral to relay each direction independently of the other.
  const std::string big = pattern_bytes(7, 2 * 1024 * 1024);
  ASSERT_FALSE(client.send_raw(big));
  std::string back = client.read_exactly(big.size(), ec);
  ASSERT_FALSE(ec) << ec.message() << " after " << back.size() << " bytes";
  EXPECT_TRUE(back == big) << "the echoed burst differs";
}

TEST(WebSocket, ClientCloseEndsTheTunnel) {
  Backend be("ws");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw(upgrade_request(client.host_header())));
  beast::error_code ec;
  std::string head = client.read_until("\r\n\r\n", ec);
  ASSERT_EQ(raw_status(head), 101) << head;
  ASSERT_FALSE(client.send_raw("last words"));
  EXPECT_EQ(client.read_exactly(10, ec), "last words");
  // Half-close from the client: the backend ends its side, and corral passes the end back.
  client.shutdown_send();
  auto rest = client.read_until_close(5s);
  EXPECT_TRUE(rest.closed);
  EXPECT_TRUE(rest.data.empty()) << rest.data;
}

}  // namespace
}  // namespace corral::test
