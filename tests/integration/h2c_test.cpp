// Upgrade: h2c is never tunnelled: corral removes it, the app serves a plain HTTP/1.1 answer,
// and every later request on the connection goes through corral's checks on its own.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <vector>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

std::string h2c_request(const std::string& host, const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: " + host +
         "\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
         "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
}

std::string header_seen(const boost::json::object& answer, const char* name) {
  const auto* headers = answer.at("headers").as_object().if_contains(name);
  return headers ? std::string(headers->as_string()) : std::string();
}

TEST(H2c, TheBackendWouldSwitchWhenAskedDirectly) {
  // Without this the test below would prove nothing: the backend answers h2c with a 101.
  Backend be("h2");
  HttpClient direct(be.port());
  ASSERT_FALSE(direct.send_raw(h2c_request(direct.host_header(), "/headers")));
  beast::error_code ec;
  std::string head = direct.read_until("\r\n\r\n", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(raw_status(head), 101) << head;
}

TEST(H2c, UpgradeIsRemovedAndLaterRequestsAreProxiedOneByOne) {
  Backend be("h2");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw(h2c_request(client.host_header(), "/headers")));
  beast::error_code ec;
  auto first = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(first.result_int(), 200) << first;
  EXPECT_TRUE(first.find(http::field::upgrade) == first.end()) << first;
  auto seen = parse_json_object(first.body());
  EXPECT_EQ(header_seen(seen, "upgrade"), "");
  EXPECT_EQ(header_seen(seen, "http2-settings"), "");
  EXPECT_EQ(lower(header_seen(seen, "connection")).find("upgrade"), std::string::npos);

  // The connection still speaks HTTP/1.1 through corral: each request gets its own id from
  // corral, and a request corral refuses is refused, not passed through a tunnel.
  std::vector<std::string> ids{header_seen(seen, "x-request-id")};
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(client.send_raw(i == 1 ? h2c_request(client.host_header(), "/headers")
                                        : "GET /headers HTTP/1.1\r\nHost: " + client.host_header() +
                                              "\r\n\r\n"));
    auto res = client.read_response(ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(res.result_int(), 200) << res;
    auto answer = parse_json_object(res.body());
    EXPECT_EQ(header_seen(answer, "upgrade"), "");
    ids.push_back(header_seen(answer, "x-request-id"));
  }
  const std::set<std::string> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), 4u) << "every request on the connection has an id of its own";
  EXPECT_EQ(distinct.count(""), 0u);

  // Smuggling shapes on the same connection still meet the guard.
  ASSERT_FALSE(client.send_raw("POST /headers HTTP/1.1\r\nHost: " + client.host_header() +
                               "\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "0\r\n\r\n"));
  auto refused = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(refused.result_int(), 400) << refused;

  // Each request, the upgrade ones too, has its line in corral's access log, in order.
  for (const auto& id : ids)
    EXPECT_TRUE(
        corral.process().try_wait_for_line(std::regex(" 200 .* rid=" + id + "$"), 5s, Stream::out))
        << "no access log line for " << id;
}

TEST(H2c, WebSocketUpgradeStillTunnels) {
  Backend be("ws");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw(
      "GET /ws HTTP/1.1\r\nHost: " + client.host_header() +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  beast::error_code ec;
  std::string head = client.read_until("\r\n\r\n", ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(raw_status(head), 101) << head;
  ASSERT_FALSE(client.send_raw("echo me"));
  EXPECT_EQ(client.read_exactly(7, ec), "echo me");
}

TEST(H2c, AnUnaskedSwitchIsABadGateway) {
  Backend be("h2");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto res = client.get("/switch");
  EXPECT_EQ(res.result_int(), 502) << res;
  EXPECT_EQ(res.body().find("h2c tunnel"), std::string::npos) << res;
}

}  // namespace
}  // namespace corral::test
