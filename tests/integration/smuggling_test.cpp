// Request-smuggling shapes: each gets 400 with a plain-text body, the connection is closed,
// and nothing of it reaches the backend.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

struct Shape {
  const char* name;
  // The request bytes; "{HOST}" stands for the proxy's host:port.
  std::string bytes;
  // Body-level shapes (bad chunk framing) are only known once the body streams, after a
  // proxy may already have sent the head upstream; the backend must still never get a
  // complete request nor a malformed one.
  bool body_level = false;
};

std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.name; }

std::string with_host(std::string bytes, const std::string& host) {
  const std::string key = "{HOST}";
  for (auto pos = bytes.find(key); pos != std::string::npos; pos = bytes.find(key)) {
    bytes.replace(pos, key.size(), host);
  }
  return bytes;
}

const std::string post = "POST /echo HTTP/1.1\r\nHost: {HOST}\r\n";
const std::string get = "GET / HTTP/1.1\r\nHost: {HOST}\r\n";
const std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";

const Shape shapes[] = {
    {"ContentLengthAndTransferEncoding",
     post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
    {"TransferEncodingAndContentLength",
     post + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"},
    {"DuplicateDifferingContentLength",
     post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
    {"DifferingContentLengthList", post + "Content-Length: 5, 6\r\n\r\nhello!"},
    {"ContentLengthNotANumber", post + "Content-Length: abc\r\n\r\nhello"},
    {"ContentLengthNegative", post + "Content-Length: -1\r\n\r\nhello"},
    {"ContentLengthWithPlusSign", post + "Content-Length: +5\r\n\r\nhello"},
    {"TransferEncodingGzip", post + "Transfer-Encoding: gzip\r\n\r\nhello"},
    {"TransferEncodingChunkedThenGzip",
     post + "Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
    {"TransferEncodingChunkedThenGzipInTwoHeaders",
     post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
    {"TransferEncodingIdentity", post + "Transfer-Encoding: identity\r\n\r\nhello"},
    {"TransferEncodingXchunked",
     post + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
    {"ObsFold", get + "X-Folded: first\r\n second\r\n\r\n"},
    {"ObsFoldedTransferEncoding",
     post + "Transfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
    {"BareCarriageReturnInValue", get + "X-Foo: a\rb\r\n\r\n"},
    {"NulInValue", get + std::string("X-Foo: a\0b\r\n\r\n", 14)},
    {"SpaceInHeaderName", get + "X Foo: a\r\n\r\n"},
    {"SpaceBeforeColon", post + "Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
    {"InvalidCharacterInHeaderName", get + "X@Foo: a\r\n\r\n"},
    {"AbsoluteFormToAnotherHost", "GET http://evil.example/ HTTP/1.1\r\nHost: {HOST}\r\n\r\n"},
    {"InvalidChunkSize", chunked + "zz\r\nhello\r\n0\r\n\r\n", true},
    {"NegativeChunkSize", chunked + "-5\r\nhello\r\n0\r\n\r\n", true},
    {"OverflowingChunkSize", chunked + "fffffffffffffffff1\r\nhello\r\n0\r\n\r\n", true},
    {"ChunkDataLongerThanItsSize", chunked + "5\r\nhelloXX\r\n0\r\n\r\n", true},
};

class Smuggling : public ::testing::TestWithParam<Shape> {};

TEST_P(Smuggling, IsRefusedWith400AndNeverForwarded) {
  const Shape& shape = GetParam();
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);
  const auto before = be.counts();

  HttpClient client(corral.port());
  client.connect();
  client.send_raw(with_host(shape.bytes, client.host_header()));  // corral may close early
  auto all = client.read_until_close(5s);

  EXPECT_EQ(raw_status(all.data), 400) << "answer: " << all.data;
  EXPECT_TRUE(lower(raw_header(all.data, "Content-Type")).starts_with("text/plain")) << all.data;
  EXPECT_FALSE(all.timed_out) << "corral left the connection open after refusing it";
  EXPECT_TRUE(all.closed);

  const auto after = be.counts();
  if (!shape.body_level) {
    EXPECT_EQ(after.seen, before.seen) << "the backend received the request's head";
  }
  EXPECT_EQ(after.complete, before.complete) << "the backend received a complete request";
  EXPECT_EQ(after.client_errors, before.client_errors) << "the backend got malformed bytes";

  // Corral itself is unharmed.
  EXPECT_EQ(http_get(corral.port(), "/").body(), "a");
}

INSTANTIATE_TEST_SUITE_P(Shapes, Smuggling, ::testing::ValuesIn(shapes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SmugglingOnKeptAliveConnection, RefusalClosesTheConnectionAfterGoodRequests) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  EXPECT_EQ(client.get("/").body(), "a");
  const auto before = be.counts();
  // A CL+TE request whose "body" hides a second request.
  client.send_raw(with_host(post + "Content-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
                            client.host_header()));
  auto all = client.read_until_close(5s);
  EXPECT_EQ(raw_status(all.data), 400) << all.data;
  EXPECT_TRUE(all.closed);
  EXPECT_EQ(all.data.find("HTTP/1.1", 1), std::string::npos)
      << "more than one answer came back: " << all.data;
  const auto after = be.counts();
  EXPECT_EQ(after.seen, before.seen);
  EXPECT_EQ(after.client_errors, before.client_errors);
}

TEST(SmugglingControl, AbsoluteFormToTheSameHostIsServed) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw(
      with_host("GET http://{HOST}/ HTTP/1.1\r\nHost: {HOST}\r\n\r\n", client.host_header())));
  beast::error_code ec;
  auto res = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "a");
}

TEST(SmugglingControl, ChunkedWithContentLengthAbsentIsServed) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(
      client.send_raw(with_host(chunked + "5\r\nhello\r\n0\r\n\r\n", client.host_header())));
  beast::error_code ec;
  auto res = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hello");
}

}  // namespace
}  // namespace corral::test
