// Bodies streamed through corral: 1 GiB each way byte-exact with bounded memory, chunked
// requests and responses, Expect: 100-continue, and message framing on a kept-alive connection.
#include <gtest/gtest.h>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstring>
#include <iostream>
#include <set>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

// 1 GiB unless CORRAL_IT_BIG_BYTES says otherwise (e.g. for a quick local run).
std::uint64_t big_bytes() { return env_u64("CORRAL_IT_BIG_BYTES", 1ull << 30); }

// The proxy's peak RSS bound while relaying a big body. Sanitizer builds keep freed memory in
// quarantine, so the sanitizer pass sets a looser bound (CORRAL_IT_RSS_LIMIT_MIB) that still
// proves the body was not held in memory.
std::uint64_t rss_limit_kib() { return env_u64("CORRAL_IT_RSS_LIMIT_MIB", 64) * 1024; }

// A buffer of the backend's pattern long enough that any slice of `piece` bytes starting at
// offset % 251 continues the pattern.
constexpr std::size_t piece = 256 * 1024;
const std::string& pattern_window() {
  static const std::string w = pattern_bytes(0, piece + 251);
  return w;
}

CorralConfig big_body_config(const Backend& b) {
  CorralConfig cfg;
  cfg.add(b);
  cfg.limits["max_body_bytes"] = "2GiB";
  return cfg;
}

TEST(Streaming, DownloadOneGiBByteExactWithBoundedMemory) {
  const std::uint64_t n = big_bytes();
  Backend be("big");
  Corral corral(big_body_config(be));

  HttpClient client(corral.port(), 20s);
  client.connect();
  http::request<http::empty_body> req{http::verb::get, "/bytes?n=" + std::to_string(n), 11};
  req.set(http::field::host, client.host_header());
  ASSERT_FALSE(
      client.run([&](auto h) { http::async_write(client.stream(), req, h); }, client.timeout()));

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  auto ec = client.run(
      [&](auto h) { http::async_read_header(client.stream(), client.buffer(), parser, h); },
      client.timeout());
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(parser.get().result_int(), 200);
  ASSERT_EQ(parser.content_length().value_or(0), n);

  std::vector<char> buf(piece);
  std::uint64_t got = 0;
  std::optional<std::uint64_t> first_mismatch;
  while (!parser.is_done()) {
    parser.get().body().data = buf.data();
    parser.get().body().size = buf.size();
    ec = client.run([&](auto h) { http::async_read(client.stream(), client.buffer(), parser, h); },
                    client.timeout());
    if (ec == http::error::need_buffer) ec = {};
    ASSERT_FALSE(ec) << ec.message() << " after " << got << " body bytes";
    const std::size_t len = buf.size() - parser.get().body().size;
    if (!first_mismatch && std::memcmp(buf.data(), pattern_window().data() + got % 251, len) != 0) {
      for (std::size_t i = 0; i < len; ++i) {
        if (static_cast<unsigned char>(buf[i]) != (got + i) % 251) {
          first_mismatch = got + i;
          break;
        }
      }
    }
    got += len;
  }
  EXPECT_EQ(got, n);
  EXPECT_FALSE(first_mismatch) << "first wrong byte at offset " << *first_mismatch;
  const auto peak = corral.process().peak_rss_kib();
  RecordProperty("corral_peak_rss_kib", std::to_string(peak));
  std::cout << "corral peak RSS: " << peak << " KiB\n";
  EXPECT_GT(peak, 0u);
  EXPECT_LT(peak, rss_limit_kib())
      << "corral peak RSS " << peak << " KiB after a " << n << "-byte download";
}

TEST(Streaming, UploadOneGiBByteExactWithBoundedMemory) {
  const std::uint64_t n = big_bytes();
  Backend be("big");
  Corral corral(big_body_config(be));

  HttpClient client(corral.port(), 20s);
  client.connect();
  ASSERT_FALSE(client.send_raw("POST /upload HTTP/1.1\r\nHost: " + client.host_header() +
                               "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                               std::to_string(n) + "\r\n\r\n"));
  Sha256 sha;
  std::uint64_t sent = 0;
  while (sent < n) {
    const std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(piece, n - sent));
    std::string_view slice(pattern_window().data() + sent % 251, len);
    auto ec = client.send_raw(slice);
    ASSERT_FALSE(ec) << ec.message() << " after " << sent << " body bytes";
    sha.update(slice.data(), slice.size());
    sent += len;
  }
  beast::error_code ec;
  auto res = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto obj = parse_json_object(res.body());
  EXPECT_EQ(obj.at("bytes").to_number<std::uint64_t>(), n);
  EXPECT_EQ(obj.at("sha256").as_string(), sha.hex());
  const auto peak = corral.process().peak_rss_kib();
  RecordProperty("corral_peak_rss_kib", std::to_string(peak));
  std::cout << "corral peak RSS: " << peak << " KiB\n";
  EXPECT_GT(peak, 0u);
  EXPECT_LT(peak, rss_limit_kib())
      << "corral peak RSS " << peak << " KiB after a " << n << "-byte upload";
}

TEST(Streaming, ChunkedRequestBodyIsForwarded) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw("POST /echo HTTP/1.1\r\nHost: " + client.host_header() +
                               "\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "6\r\nhello \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n"));
  beast::error_code ec;
  auto res = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hello chunked world");

  // The connection stays usable after a chunked exchange.
  auto again = client.get("/");
  EXPECT_EQ(again.body(), "a");
}

TEST(Streaming, LargeChunkedUploadIsByteExact) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port(), 10s);
  ASSERT_FALSE(client.send_raw("POST /upload HTTP/1.1\r\nHost: " + client.host_header() +
                               "\r\nTransfer-Encoding: chunked\r\n\r\n"));
  Sha256 sha;
  const std::size_t total = 8 * 1024 * 1024 + 7;
  std::size_t sent = 0;
  std::size_t chunk = 1;
  while (sent < total) {
    // Chunk sizes vary from 1 byte to 64 KiB so that chunk edges fall everywhere.
    const std::size_t len = std::min(total - sent, chunk);
    std::string body = pattern_bytes(sent, len);
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", len);
    ASSERT_FALSE(client.send_raw(std::string(size_line) + body + "\r\n"));
    sha.update(body.data(), body.size());
    sent += len;
    chunk = chunk >= 65536 ? 1 : chunk * 3 + 1;
  }
  ASSERT_FALSE(client.send_raw("0\r\n\r\n"));
  beast::error_code ec;
  auto res = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto obj = parse_json_object(res.body());
  EXPECT_EQ(obj.at("bytes").to_number<std::uint64_t>(), total);
  EXPECT_EQ(obj.at("sha256").as_string(), sha.hex());
}

TEST(Streaming, ChunkedResponseIsRelayedAsItArrives) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  // The backend sends its first chunk, then holds the rest until released. Seeing the first
  // chunk before the release proves corral relays chunks as they come instead of buffering.
  HttpClient client(corral.port(), 5s);
  client.connect();
  http::request<http::empty_body> req{http::verb::get, "/chunked?n=3&hold=h1", 11};
  req.set(http::field::host, client.host_header());
  ASSERT_FALSE(
      client.run([&](auto h) { http::async_write(client.stream(), req, h); }, client.timeout()));
  http::response_parser<http::buffer_body> parser;
  std::string body;
  char buf[4096];
  auto read_some_body = [&]() {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof buf;
    auto ec = client.run(
        [&](auto h) { http::async_read_some(client.stream(), client.buffer(), parser, h); },
        client.timeout());
    if (ec == http::error::need_buffer) ec = {};
    body.append(buf, sizeof buf - parser.get().body().size);
    return ec;
  };
  while (body.find("chunk 0\n") == std::string::npos) {
    auto ec = read_some_body();
    ASSERT_FALSE(ec) << "first chunk not relayed before the rest was sent: " << ec.message();
    ASSERT_FALSE(parser.is_done());
  }
  EXPECT_EQ(parser.get().result_int(), 200);
  EXPECT_TRUE(parser.chunked()) << "a response without length should stay chunked";

  auto released = http_get(be.port(), "/release?id=h1");
  ASSERT_EQ(released.result_int(), 200);
  while (!parser.is_done()) {
    auto ec = read_some_body();
    ASSERT_FALSE(ec) << ec.message();
  }
  EXPECT_EQ(body, "chunk 0\nchunk 1\nchunk 2\n");
}

TEST(Streaming, ChunkedResponseOfManyChunks) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  auto res = client.get("/chunked?n=50");
  ASSERT_EQ(res.result_int(), 200);
  std::string want;
  for (int i = 0; i < 50; ++i) want += "chunk " + std::to_string(i) + "\n";
  EXPECT_EQ(res.body(), want);
  EXPECT_EQ(client.get("/").body(), "a");
  EXPECT_EQ(client.connects(), 1);
}

TEST(Streaming, ExpectContinueGetsInterimResponseBeforeBody) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw("POST /echo HTTP/1.1\r\nHost: " + client.host_header() +
                               "\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"));
  // The client holds its body back until it sees "100 Continue".
  beast::error_code ec;
  std::string interim = client.read_until("\r\n\r\n", ec);
  ASSERT_FALSE(ec) << "no interim response: " << ec.message() << "; got: " << interim;
  EXPECT_EQ(raw_status(interim), 100) << interim;

  ASSERT_FALSE(client.send_raw("hello world"));
  auto res = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hello world");
}

TEST(Streaming, EchoesBodiesOfManySizesOnKeptAliveConnection) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port(), 10s);
  for (std::size_t size :
       {std::size_t{1}, std::size_t{65536 + 3}, std::size_t{4 * 1024 * 1024}, std::size_t{10}}) {
    SCOPED_TRACE("body of " + std::to_string(size) + " bytes");
    http::request<http::string_body> req{http::verb::post, "/echo", 11};
    req.body() = pattern_bytes(size, size);
    auto res = client.request(std::move(req));
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body().size(), size);
    EXPECT_TRUE(res.body() == pattern_bytes(size, size)) << "echoed body differs";
  }
  EXPECT_EQ(client.connects(), 1);
}

TEST(Streaming, EmptyChunkedResponseIsTerminatedOnce) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  // The backend answers an empty echo with a chunked body of no chunks: "0\r\n\r\n" only.
  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw("POST /echo HTTP/1.1\r\nHost: " + client.host_header() +
                               "\r\nContent-Length: 0\r\n\r\n"));
  beast::error_code ec;
  auto res = client.read_response(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "");
  // Nothing may follow the response on the kept-alive connection.
  auto extra = client.read_until_close(300ms);
  EXPECT_EQ(extra.data, "") << "bytes after the end of the response";
  EXPECT_FALSE(extra.closed);
  if (!extra.closed) {
    ASSERT_FALSE(client.send_raw("GET / HTTP/1.1\r\nHost: " + client.host_header() + "\r\n\r\n"));
    auto next = client.read_response(ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(next.body(), "a");
  }
}

TEST(Framing, HeadNoContentAndNotModifiedKeepTheConnectionInStep) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  http::request<http::string_body> head{http::verb::head, "/bytes?n=1000", 11};
  auto res = client.request(std::move(head));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_length], "1000");
  EXPECT_TRUE(res.body().empty());

  res = client.get("/status?code=204");
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_TRUE(res.body().empty());

  res = client.get("/status?code=304");
  EXPECT_EQ(res.result_int(), 304);
  EXPECT_TRUE(res.body().empty());

  // Had any of those been framed with a body, this answer would be out of step.
  res = client.get("/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "a");
  EXPECT_EQ(client.connects(), 1);
}

TEST(Framing, Http10ClientGetsAnAnswerAndAClose) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw("GET / HTTP/1.0\r\nHost: " + client.host_header() + "\r\n\r\n"));
  auto all = client.read_until_close(5s);
  EXPECT_TRUE(all.closed) << "an HTTP/1.0 request without keep-alive ends the connection";
  EXPECT_EQ(raw_status(all.data), 200) << all.data;
  EXPECT_TRUE(all.data.ends_with("\r\n\r\na")) << all.data;
}

TEST(Framing, Http10KeepAliveClientIsServedOverOneReusedUpstreamConnection) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  client.connect();
  std::set<long> upstream_ports;
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(client.send_raw("GET /headers HTTP/1.0\r\nHost: " + client.host_header() +
                                 "\r\nConnection: keep-alive\r\n\r\n"));
    beast::error_code ec;
    auto res = client.read_response(ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.version(), 10);
    EXPECT_EQ(res[http::field::connection], "keep-alive");
    auto seen = parse_json_object(res.body());
    // The upstream is spoken to in HTTP/1.1, so its connection outlives each answer.
    EXPECT_EQ(seen.at("httpVersion").as_string(), "1.1");
    EXPECT_FALSE(seen.at("headers").as_object().contains("connection")) << res.body();
    upstream_ports.insert(seen.at("remotePort").to_number<long>());
  }
  EXPECT_EQ(upstream_ports.size(), 1u) << "a new upstream connection for HTTP/1.0 requests";
  EXPECT_EQ(client.connects(), 1);
}

TEST(Framing, UpstreamStatusIsPassedThrough) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);

  HttpClient client(corral.port());
  for (int code : {201, 404, 418, 500, 503}) {
    auto res = client.get("/status?code=" + std::to_string(code));
    EXPECT_EQ(res.result_int(), code);
    EXPECT_EQ(res.body(), "status " + std::to_string(code) + "\n");
    EXPECT_EQ(res["X-Backend"], "a");
  }
}

}  // namespace
}  // namespace corral::test
