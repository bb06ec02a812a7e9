// The HTTP/2 codec against nghttp2's own client session, byte for byte in memory.
#include "proxy/h2/h2_connection.hpp"

#include <map>
#include <tuple>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include "tests/unit/h2/h2_test_client.hpp"

namespace corral::proxy::h2 {
namespace {

using test::BodySource;
using test::Client;

struct Recorder : Connection::Events {
  struct Req {
    RequestHead head;
    std::string body;
    bool ended = false;
  };
  std::map<std::int32_t, Req> requests;
  std::map<std::int32_t, std::uint32_t> closed;
  Connection* conn = nullptr;
  bool consume_body = true;
  void on_request(std::int32_t s, RequestHead&& head, bool end) override {
    requests[s].head = std::move(head);
    requests[s].ended = end;
  }
  void on_body(std::int32_t s, std::string_view data, bool end) override {
    requests[s].body.append(data);
    if (end) requests[s].ended = true;
    if (consume_body) conn->consume(s, data.size());
  }
  void on_closed(std::int32_t s, std::uint32_t code) override { closed[s] = code; }
};

// Moves bytes both ways until neither side has anything to say. False once the server ends
// the connection.
bool pump(Client& c, Connection& s) {
  bool alive = true;
  for (int round = 0; round < 1000; ++round) {
    bool moved = false;
    std::string to_server = c.take_output();
    if (!to_server.empty() && alive) {
      moved = true;
      alive = s.receive(to_server);
    }
    auto out = s.output();
    if (!out.empty()) {
      moved = true;
      nghttp2_session_mem_recv(c.session, (const uint8_t*)out.data(), out.size());
      s.sent(out.size());
    }
    if (!moved) break;
  }
  return alive;
}

struct H2 : ::testing::Test {
  Recorder events;
  Limits limits;
  std::unique_ptr<Connection> server;
  Client client;
  void start() {
    server = std::make_unique<Connection>(events, limits);
    events.conn = server.get();
  }
};

TEST_F(H2, ARequestArrivesWithItsHeadAndTheResponseGoesBack) {
  start();
  auto id = client.get("/cart?x=1", {{"cookie", "a=1"}, {"cookie", "b=2"}, {"accept", "*/*"}});
  ASSERT_TRUE(pump(client, *server));
  ASSERT_EQ(events.requests.count(id), 1u);
  auto& r = events.requests[id];
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.path, "/cart?x=1");
  EXPECT_EQ(r.head.authority, "example.com");
  ASSERT_EQ(r.head.fields.size(), 3u);

  server->respond(id, 200, {{"content-type", "text/plain"}, {"set-cookie", "s=1"}}, false);
  server->send_body(id, "hello ", false);
  server->send_body(id, "world", true);
  ASSERT_TRUE(pump(client, *server));
  auto& resp = client.responses[id];
  EXPECT_EQ(resp.headers[":status"], "200");
  EXPECT_EQ(resp.headers["set-cookie"], "s=1");
  EXPECT_EQ(resp.body, "hello world");
  EXPECT_TRUE(resp.closed);
  EXPECT_EQ(resp.error, 0u);
  EXPECT_EQ(events.closed.at(id), 0u);
  EXPECT_EQ(server->open_streams(), 0u);
}

TEST_F(H2, ABodyIsHandedOnAndEnds) {
  start();
  std::string payload(100000, 'x');
  BodySource src(payload);
  nghttp2_data_provider prd = src.provider();
  auto id = client.request("POST", "/upload", {}, &prd);
  ASSERT_TRUE(pump(client, *server));
  EXPECT_EQ(events.requests[id].body.size(), payload.size());
  EXPECT_TRUE(events.requests[id].ended);
}

TEST_F(H2, AStreamReceivesNoMoreThanItsWindowUntilTheBodyIsConsumed) {
  limits.stream_window = 16384;
  start();
  ASSERT_TRUE(pump(client, *server));  // the client knows the window before it sends
  events.consume_body = false;
  std::string payload(200000, 'y');
  BodySource src(payload);
  nghttp2_data_provider prd = src.provider();
  auto id = client.request("POST", "/upload", {}, &prd);
  ASSERT_TRUE(pump(client, *server));
  EXPECT_LE(events.requests[id].body.size(), 16384u);
  auto before = events.requests[id].body.size();
  server->consume(id, before);
  ASSERT_TRUE(pump(client, *server));
  EXPECT_GT(events.requests[id].body.size(), before);
  EXPECT_LE(events.requests[id].body.size(), before + 16384u);
}

TEST_F(H2, AHeaderListOverTheLimitIsAnswered431AndNotHandedOn) {
  limits.max_header_list_bytes = 4096;
  start();
  auto id = client.get("/", {{"x-big", std::string(5000, 'a')}});
  ASSERT_TRUE(pump(client, *server));
  EXPECT_EQ(events.requests.count(id), 0u);
  EXPECT_EQ(client.responses[id].headers[":status"], "431");
  // The connection goes on.
  auto next = client.get("/next");
  ASSERT_TRUE(pump(client, *server));
  EXPECT_EQ(events.requests.count(next), 1u);
}

TEST_F(H2, ARapidResetFloodEndsTheConnection) {
  limits.reset_burst = 50;
  limits.reset_rate = 10;
  start();
  ASSERT_TRUE(pump(client, *server));
  bool alive = true;
  for (int i = 0; i < 400 && alive; ++i) {
    auto id = client.get("/");
    alive = pump(client, *server);
    nghttp2_submit_rst_stream(client.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    alive = pump(client, *server) && !client.goaway;
  }
  EXPECT_TRUE(client.goaway);
  EXPECT_NE(client.goaway_code, static_cast<std::uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_LT(events.requests.size(), 400u);
}

// A frame header: 24-bit length, type, flags, 31-bit stream id.
std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string payload) {
  std::string f;
  f.push_back(static_cast<char>(payload.size() >> 16));
  f.push_back(static_cast<char>(payload.size() >> 8));
  f.push_back(static_cast<char>(payload.size()));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  f.push_back(static_cast<char>(stream >> 24));
  f.push_back(static_cast<char>(stream >> 16));
  f.push_back(static_cast<char>(stream >> 8));
  f.push_back(static_cast<char>(stream));
  return f + payload;
}

TEST(H2Raw, AContinuationFloodEndsTheConnection) {
  Recorder events;
  Limits limits;
  Connection server(events, limits);
  events.conn = &server;
  std::string bytes = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  bytes += frame(0x4, 0, 0, "");  // SETTINGS
  // HEADERS without END_HEADERS (":method: GET" indexed), then CONTINUATIONs that never end.
  bytes += frame(0x1, 0x1, 1, std::string("\x82", 1));
  for (int i = 0; i < 100; ++i) bytes += frame(0x9, 0, 1, std::string("\x84", 1));
  bool alive = server.receive(bytes);
  EXPECT_FALSE(alive);
  EXPECT_TRUE(events.requests.empty());
}

// The frames of `bytes` as (type, stream, first 4 payload bytes as a number).
std::vector<std::tuple<int, std::uint32_t, std::uint32_t>> frames(std::string_view bytes) {
  std::vector<std::tuple<int, std::uint32_t, std::uint32_t>> out;
  auto u8 = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
  while (bytes.size() >= 9) {
    std::size_t len = (u8(0) << 16) | (u8(1) << 8) | u8(2);
    std::uint32_t id = ((u8(5) & 0x7f) << 24) | (u8(6) << 16) | (u8(7) << 8) | u8(8);
    std::uint32_t first = len >= 4 ? (u8(9) << 24) | (u8(10) << 16) | (u8(11) << 8) | u8(12) : 0;
    out.emplace_back(u8(3), id, first);
    bytes.remove_prefix(std::min(bytes.size(), 9 + len));
  }
  return out;
}

TEST(H2Raw, StreamsBeyondTheConcurrencyLimitAreNotHandedOn) {
  Recorder events;
  Limits limits;
  limits.max_concurrent_streams = 3;
  Connection server(events, limits);
  events.conn = &server;
  std::string bytes = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  bytes += frame(0x4, 0, 0, "");    // SETTINGS
  bytes += frame(0x4, 0x1, 0, "");  // ACK of the server's
  // GET / with :authority x, END_STREAM | END_HEADERS, on five streams at once.
  const std::string block("\x82\x86\x84\x01\x01x", 6);
  for (std::uint32_t id = 1; id <= 9; id += 2) bytes += frame(0x1, 0x5, id, block);
  server.receive(bytes);
  // Past the limit it acknowledged, the client broke the protocol: GOAWAY, the three streams
  // it may have go on (last stream id 5), the others are never handed on.
  EXPECT_EQ(events.requests.size(), 3u);
  bool goaway = false;
  for (auto [type, id, last] : frames(server.output()))
    if (type == 0x7) goaway = last == 5;
  EXPECT_TRUE(goaway);
}

TEST(H2Raw, APlainHttp1RequestIsNotHttp2) {
  Recorder events;
  Limits limits;
  Connection server(events, limits);
  EXPECT_FALSE(server.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
}

TEST_F(H2, AClientResetIsReportedForItsStream) {
  start();
  auto id = client.get("/slow");
  ASSERT_TRUE(pump(client, *server));
  ASSERT_EQ(events.requests.count(id), 1u);
  nghttp2_submit_rst_stream(client.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  ASSERT_TRUE(pump(client, *server));
  ASSERT_EQ(events.closed.count(id), 1u);
  EXPECT_EQ(events.closed[id], static_cast<std::uint32_t>(NGHTTP2_CANCEL));
  // A late answer for it goes nowhere.
  server->respond(id, 200, {}, true);
  EXPECT_TRUE(pump(client, *server));
}

TEST_F(H2, GoAwayLetsStreamsInProgressFinish) {
  start();
  auto id = client.get("/a");
  ASSERT_TRUE(pump(client, *server));
  server->go_away();
  ASSERT_TRUE(pump(client, *server));
  EXPECT_TRUE(client.goaway);
  server->respond(id, 204, {}, true);
  ASSERT_TRUE(pump(client, *server));
  EXPECT_EQ(client.responses[id].headers[":status"], "204");
}

}  // namespace
}  // namespace corral::proxy::h2

namespace corral::proxy::h2 {
namespace {

TEST(H2Raw, EveryStreamOfAResetFloodIsClosedForItsOwner) {
  Recorder events;
  Limits limits;
  limits.reset_burst = 20;
  limits.reset_rate = 5;
  Connection server(events, limits);
  events.conn = &server;
  std::string bytes = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  bytes += frame(0x4, 0, 0, "");
  const std::string block("\x82\x86\x84\x01\x01x", 6);
  for (std::uint32_t id = 1; id < 200; id += 2)
    bytes += frame(0x1, 0x5, id, block) + frame(0x3, 0, id, std::string("\0\0\0\x08", 4));
  bool alive = server.receive(bytes);
  std::printf("alive %d requests %zu closed %zu\n", alive, events.requests.size(), events.closed.size());
  for (auto& [id, r] : events.requests) EXPECT_EQ(events.closed.count(id), 1u) << id;
}

}  // namespace
}  // namespace corral::proxy::h2
