#include "proxy/header_rewrite.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace corral::proxy {
namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

Fields make(const Lines& lines) {
  Fields h;
  for (const auto& [name, value] : lines) h.insert(name, value);
  return h;
}

Lines lines_of(const Fields& h) {
  Lines out;
  for (const auto& f : h) out.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return out;
}

bool has(const Fields& h, std::string_view name) { return h.find(name) != h.end(); }

std::string value(const Fields& h, std::string_view name) { return std::string(h[name]); }

const ForwardContext plain{"10.0.0.7", false, "req-1"};

TEST(RewriteRequest, RemovesHopByHopHeaders) {
  auto h = make({{"Host", "a"},
                 {"Connection", "keep-alive"},
                 {"Keep-Alive", "timeout=5"},
                 {"TE", "trailers"},
                 {"Trailer", "X-Checksum"},
                 {"Proxy-Connection", "keep-alive"},
                 {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                 {"Proxy-Authenticate", "Basic"},
                 {"Proxy", "http://evil.example:3128"},
                 {"Upgrade", "websocket"},
                 {"Accept", "*/*"}});
  rewrite_request(h, plain, false);
  for (auto name : {"Connection", "Keep-Alive", "TE", "Trailer", "Proxy-Connection",
                    "Proxy-Authorization", "Proxy-Authenticate", "Proxy", "Upgrade"})
    EXPECT_FALSE(has(h, name)) << name;
  EXPECT_EQ(value(h, "Accept"), "*/*");
  EXPECT_EQ(value(h, "Host"), "a");
}

TEST(RewriteRequest, RemovesHeadersNamedInConnection) {
  auto h = make({{"Host", "a"},
                 {"Connection", "close, X-Hop, x-other"},
                 {"Connection", "X-Third"},
                 {"X-Hop", "1"},
                 {"X-Other", "2"},
                 {"X-Third", "3"},
                 {"X-Keep", "4"}});
  rewrite_request(h, plain, false);
  EXPECT_FALSE(has(h, "X-Hop"));
  EXPECT_FALSE(has(h, "X-Other"));
  EXPECT_FALSE(has(h, "X-Third"));
  EXPECT_FALSE(has(h, "Connection"));
  EXPECT_EQ(value(h, "X-Keep"), "4");
}

TEST(RewriteRequest, ConnectionCannotRemoveFramingOrHost) {
  auto h = make({{"Host", "a"},
                 {"Connection", "Content-Length, Transfer-Encoding, Host, Connection"},
                 {"Content-Length", "5"}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(value(h, "Content-Length"), "5");
  EXPECT_EQ(value(h, "Host"), "a");
  EXPECT_FALSE(has(h, "Connection"));

  auto chunked = make({{"Host", "a"}, {"Connection", "transfer-encoding"},
                       {"Transfer-Encoding", "chunked"}});
  rewrite_request(chunked, plain, false);
  EXPECT_EQ(value(chunked, "Transfer-Encoding"), "chunked");
}

TEST(RewriteRequest, UpgradeKeepsUpgradeAndSetsConnectionUpgrade) {
  auto h = make({{"Host", "a"},
                 {"Connection", "keep-alive, Upgrade, HTTP2-Settings"},
                 {"Upgrade", "websocket"},
                 {"HTTP2-Settings", "AAMAAABkAAQAAP__"},
                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  rewrite_request(h, plain, true);
  EXPECT_EQ(value(h, "Upgrade"), "websocket");
  EXPECT_EQ(h.count(http::field::connection), 1u);
  EXPECT_EQ(value(h, "Connection"), "upgrade");
  EXPECT_FALSE(has(h, "HTTP2-Settings"));
  EXPECT_EQ(value(h, "Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(RewriteRequest, LeavesFramingToTheSerializer) {
  auto h = make({{"Host", "a"}, {"Transfer-Encoding", "chunked"}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(value(h, "Transfer-Encoding"), "chunked");
  auto cl = make({{"Host", "a"}, {"Content-Length", "12"}});
  rewrite_request(cl, plain, false);
  EXPECT_EQ(value(cl, "Content-Length"), "12");
}

TEST(RewriteRequest, StripsClientSentInternalHeaders) {
  auto h = make({{"Host", "a"},
                 {"X-Corral-Slot", "3"},
                 {"x-corral-affinity", "s1"},
                 {"X-CORRAL-WHATEVER", "x"},
                 {"X_Corral_Slot", "4"},
                 {"X_Forwarded_For", "6.6.6.6"},
                 {"X-Forwarded_Host", "evil"},
                 {"X-Corralled", "kept: not the internal prefix"},
                 {"X-Corral", "kept: no dash after the prefix"}});
  rewrite_request(h, plain, false);
  EXPECT_FALSE(has(h, "X-Corral-Slot"));
  EXPECT_FALSE(has(h, "X-Corral-Affinity"));
  EXPECT_FALSE(has(h, "X-Corral-Whatever"));
  EXPECT_FALSE(has(h, "X_Corral_Slot"));
  EXPECT_FALSE(has(h, "X_Forwarded_For"));
  EXPECT_FALSE(has(h, "X-Forwarded_Host"));
  EXPECT_TRUE(has(h, "X-Corralled"));
  EXPECT_TRUE(has(h, "X-Corral"));
}

TEST(RewriteRequest, SetsXForwardedForWhenAbsent) {
  auto h = make({{"Host", "a"}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(value(h, "X-Forwarded-For"), "10.0.0.7");
}

TEST(RewriteRequest, AppendsToXForwardedFor) {
  auto h = make({{"Host", "a"}, {"X-Forwarded-For", "1.2.3.4"}});
  rewrite_request(h, ForwardContext{"::1", false, "r"}, false);
  EXPECT_EQ(h.count("X-Forwarded-For"), 1u);
  EXPECT_EQ(value(h, "X-Forwarded-For"), "1.2.3.4, ::1");
}

TEST(RewriteRequest, JoinsSeveralXForwardedForLinesInOrder) {
  auto h = make({{"Host", "a"}, {"X-Forwarded-For", "1.1.1.1, 2.2.2.2"},
                 {"x-forwarded-for", "3.3.3.3"}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(h.count("X-Forwarded-For"), 1u);
  EXPECT_EQ(value(h, "X-Forwarded-For"), "1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.7");
}

TEST(RewriteRequest, AppendsToXForwardedForLongerThanTheStackBuffer) {
  std::string chain;
  for (int i = 0; i < 100; ++i) chain += (i ? ", 192.168.100." : "192.168.100.") + std::to_string(i);
  ASSERT_GT(chain.size(), 1000u);
  auto h = make({{"Host", "a"}, {"X-Forwarded-For", chain}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(value(h, "X-Forwarded-For"), chain + ", 10.0.0.7");
}

TEST(RewriteRequest, SetsXForwardedProto) {
  auto h = make({{"Host", "a"}, {"X-Forwarded-Proto", "https"}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(h.count("X-Forwarded-Proto"), 1u);
  EXPECT_EQ(value(h, "X-Forwarded-Proto"), "http");

  auto tls = make({{"Host", "a"}, {"X-Forwarded-Proto", "http"}});
  rewrite_request(tls, ForwardContext{"10.0.0.7", true, "r"}, false);
  EXPECT_EQ(value(tls, "X-Forwarded-Proto"), "https");
}

TEST(RewriteRequest, SetsXForwardedHostFromHost) {
  auto h = make({{"Host", "shop.example:8443"}, {"X-Forwarded-Host", "evil.example"}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(h.count("X-Forwarded-Host"), 1u);
  EXPECT_EQ(value(h, "X-Forwarded-Host"), "shop.example:8443");
}

TEST(RewriteRequest, DropsClientXForwardedHostWithoutHost) {
  auto h = make({{"X-Forwarded-Host", "evil.example"}});
  rewrite_request(h, plain, false);
  EXPECT_FALSE(has(h, "X-Forwarded-Host"));
}

TEST(RewriteRequest, KeepsClientRequestId) {
  auto h = make({{"Host", "a"}, {"X-Request-Id", "client-42"}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(h.count("X-Request-Id"), 1u);
  EXPECT_EQ(value(h, "X-Request-Id"), "client-42");
  EXPECT_EQ(request_id_of(h), "client-42");
}

TEST(RewriteRequest, SetsRequestIdWhenAbsent) {
  auto h = make({{"Host", "a"}});
  EXPECT_EQ(request_id_of(h), "");
  rewrite_request(h, plain, false);
  EXPECT_EQ(value(h, "X-Request-Id"), "req-1");
  EXPECT_EQ(request_id_of(h), "req-1");
}

TEST(RewriteRequest, ReplacesEmptyRequestId) {
  auto h = make({{"Host", "a"}, {"X-Request-Id", ""}});
  rewrite_request(h, plain, false);
  EXPECT_EQ(h.count("X-Request-Id"), 1u);
  EXPECT_EQ(request_id_of(h), "req-1");
}

TEST(RewriteRequest, KeepsEndToEndHeadersInOrder) {
  auto h = make({{"Host", "a"}, {"Accept", "text/html"}, {"Connection", "close"},
                 {"Cookie", "s=1"}, {"Authorization", "Bearer t"}});
  rewrite_request(h, plain, false);
  const Lines expected{{"Host", "a"},
                       {"Accept", "text/html"},
                       {"Cookie", "s=1"},
                       {"Authorization", "Bearer t"},
                       {"X-Forwarded-For", "10.0.0.7"},
                       {"X-Forwarded-Proto", "http"},
                       {"X-Forwarded-Host", "a"},
                       {"X-Request-Id", "req-1"}};
  EXPECT_EQ(lines_of(h), expected);
}

TEST(RewriteResponse, RemovesHopByHopAndInternalHeaders) {
  auto h = make({{"Content-Type", "text/plain"},
                 {"Connection", "keep-alive, X-Hop"},
                 {"Keep-Alive", "timeout=5"},
                 {"X-Hop", "1"},
                 {"Proxy-Authenticate", "Basic"},
                 {"Trailer", "X-Checksum"},
                 {"Upgrade", "h2c"},
                 {"X-Corral-Affinity", "slot=2"},
                 {"Transfer-Encoding", "chunked"},
                 {"Set-Cookie", "s=1"}});
  rewrite_response(h, false);
  const Lines expected{{"Content-Type", "text/plain"},
                       {"Transfer-Encoding", "chunked"},
                       {"Set-Cookie", "s=1"}};
  EXPECT_EQ(lines_of(h), expected);
}

TEST(RewriteResponse, KeepsUpgradeOnSwitchingProtocols) {
  auto h = make({{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
                 {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}});
  rewrite_response(h, true);
  EXPECT_EQ(value(h, "Upgrade"), "websocket");
  EXPECT_EQ(value(h, "Connection"), "upgrade");
  EXPECT_EQ(value(h, "Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(RewriteResponse, AddsNoForwardingHeaders) {
  auto h = make({{"Content-Length", "0"}});
  rewrite_response(h, false);
  EXPECT_EQ(lines_of(h), (Lines{{"Content-Length", "0"}}));
}

TEST(RemoveH2cUpgrade, AnH2cUpgradeBecomesAPlainRequest) {
  auto h = make({{"Host", "a"},
                 {"Connection", "Upgrade, HTTP2-Settings"},
                 {"Upgrade", "h2c"},
                 {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
  EXPECT_FALSE(remove_h2c_upgrade(h));
  EXPECT_EQ(lines_of(h), (Lines{{"Host", "a"}}));
}

TEST(RemoveH2cUpgrade, OtherConnectionTokensStay) {
  auto h = make({{"Host", "a"},
                 {"Connection", "keep-alive, Upgrade, HTTP2-Settings"},
                 {"Upgrade", "H2C"},
                 {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
  EXPECT_FALSE(remove_h2c_upgrade(h));
  EXPECT_EQ(lines_of(h), (Lines{{"Host", "a"}, {"Connection", "keep-alive"}}));
}

TEST(RemoveH2cUpgrade, AnotherProtocolInTheSameUpgradeStays) {
  auto h = make({{"Connection", "Upgrade, HTTP2-Settings"},
                 {"Upgrade", "h2c, websocket"},
                 {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
  EXPECT_TRUE(remove_h2c_upgrade(h));
  EXPECT_EQ(value(h, "Connection"), "Upgrade");
  EXPECT_EQ(value(h, "Upgrade"), "websocket");
  EXPECT_FALSE(has(h, "HTTP2-Settings"));
}

TEST(RemoveH2cUpgrade, AWebSocketUpgradeIsLeftAlone) {
  const Lines ws{{"Host", "a"},
                 {"Connection", "Upgrade"},
                 {"Upgrade", "websocket"},
                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                 {"Sec-WebSocket-Version", "13"}};
  auto h = make(ws);
  EXPECT_TRUE(remove_h2c_upgrade(h));
  EXPECT_EQ(lines_of(h), ws);
}

TEST(RemoveH2cUpgrade, AVersionedProtocolIsMatchedByName) {
  auto h = make({{"Connection", "upgrade"}, {"Upgrade", "h2c/1, websocket/13"}});
  EXPECT_TRUE(remove_h2c_upgrade(h));
  EXPECT_EQ(value(h, "Upgrade"), "websocket/13");
}

TEST(RemoveH2cUpgrade, SettingsWithoutUpgradeAreRemovedToo) {
  auto h = make({{"Host", "a"}, {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
  EXPECT_FALSE(remove_h2c_upgrade(h));
  EXPECT_EQ(lines_of(h), (Lines{{"Host", "a"}}));
}

TEST(RemoveH2cUpgrade, SplitFieldLinesAreJoined) {
  auto h = make({{"Connection", "Upgrade"},
                 {"Connection", "HTTP2-Settings"},
                 {"Upgrade", "h2c"},
                 {"Upgrade", "websocket"}});
  EXPECT_TRUE(remove_h2c_upgrade(h));
  EXPECT_EQ(value(h, "Upgrade"), "websocket");
  EXPECT_EQ(value(h, "Connection"), "Upgrade");
  EXPECT_FALSE(has(h, "HTTP2-Settings"));
}

TEST(RemoveH2cUpgrade, ThenRewriteForwardsNoUpgrade) {
  auto h = make({{"Host", "a"},
                 {"Connection", "Upgrade, HTTP2-Settings"},
                 {"Upgrade", "h2c"},
                 {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
  const bool upgrade = remove_h2c_upgrade(h);
  rewrite_request(h, plain, upgrade);
  EXPECT_FALSE(has(h, "Upgrade"));
  EXPECT_FALSE(has(h, "Connection"));
  EXPECT_FALSE(has(h, "HTTP2-Settings"));
}

}  // namespace
}  // namespace corral::proxy
