// HTTP/2 towards clients, end to end with the real binary: h2c with prior knowledge on a plain
// listener (curl as the client, and raw frames for the floods), each stream through the same
// request path as HTTP/1.1 (rewrite, access log, request id), and the limits a public port
// needs. HTTP/2 over TLS (ALPN) is in tls_test.cpp.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

using tcp = asio::ip::tcp;

CorralConfig h2c_config(const Backend& be, const std::string& more = "") {
  CorralConfig cfg;
  cfg.listen = {"{ address: \"127.0.0.1:0\", h2c: true }"};
  cfg.add(be);
  cfg.extra = more;
  return cfg;
}

std::string url(const Corral& c, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(c.port()) + path;
}

// curl with prior knowledge; returns "<http_version> <status>" and the body.
struct CurlResult {
  std::string status_line;
  std::string body;
  int exit_code = 0;
};
CurlResult curl_h2(std::vector<std::string> args) {
  std::vector<std::string> argv = {"curl", "-s", "--http2-prior-knowledge", "--max-time", "10",
                                   "-w", "\n%{http_version} %{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, 20s);
  CurlResult out;
  out.exit_code = r.exit_code;
  auto nl = r.out.rfind('\n');
  if (nl != std::string::npos) {
    out.body = r.out.substr(0, nl);
    out.status_line = r.out.substr(nl + 1);
  }
  return out;
}

// --- raw frames ---------------------------------------------------------------------------

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(payload.size() >> 16));
  f.push_back(static_cast<char>(payload.size() >> 8));
  f.push_back(static_cast<char>(payload.size()));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift : {24, 16, 8, 0}) f.push_back(static_cast<char>(stream >> shift));
  return f + payload;
}

const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// GET / with :scheme http and :authority x, HPACK static table entries and one literal.
const std::string get_root("\x82\x86\x84\x01\x01x", 6);

// GET `path` (a literal, under 128 bytes) with :scheme http and :authority x.
std::string get_path(const std::string& path) {
  std::string block("\x82\x86\x04", 3);
  block += static_cast<char>(path.size());
  block += path;
  return block + std::string("\x01\x01x", 3);
}

struct Frame {
  int type = -1;
  int flags = 0;
  std::uint32_t stream = 0;
  std::string payload;
};

// A raw HTTP/2 connection to corral; reads are bounded by a deadline.
class RawH2 {
 public:
  explicit RawH2(std::uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // The next frame; type -1 when the connection closed, -3 when nothing came for `timeout`.
  Frame next(Millis timeout = 5s) {
    Frame f;
    std::string head = read_exactly(9, timeout);
    if (head.size() < 9) {
      f.type = timed_out_ ? -3 : -1;
      return f;
    }
    auto u = [&](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(head[i])); };
    std::size_t len = (u(0) << 16) | (u(1) << 8) | u(2);
    f.type = static_cast<int>(u(3));
    f.flags = static_cast<int>(u(4));
    f.stream = ((u(5) & 0x7f) << 24) | (u(6) << 16) | (u(7) << 8) | u(8);
    f.payload = read_exactly(len, timeout);
    return f;
  }
  // Reads frames until one of `type` (returned), the close (type -1) or the timeout (-3).
  Frame until(int type, Millis timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
      Frame f = left > Millis(0) ? next(left) : Frame{.type = -3};
      if (f.type == type || f.type < 0) return f;
    }
  }

 private:
  std::string read_exactly(std::size_t n, Millis timeout) {
    std::string out(n, '\0');
    std::size_t got = 0;
    bool done = false;
    std::function<void()> more = [&] {
      if (got == n) { done = true; return; }
      socket_.async_read_some(asio::buffer(out.data() + got, n - got),
                              [&](beast::error_code ec, std::size_t k) {
                                got += k;
                                if (ec) { done = true; return; }
                                more();
                              });
    };
    more();
    ioc_.restart();
    ioc_.run_for(timeout);
    timed_out_ = !done;
    if (!done) {
      socket_.cancel();
      ioc_.restart();
      ioc_.run();
    }
    out.resize(got);
    return out;
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  bool timed_out_ = false;
};

std::uint32_t u32(const std::string& s, std::size_t at) {
  auto u = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i])); };
  return (u(at) << 24) | (u(at + 1) << 16) | (u(at + 2) << 8) | u(at + 3);
}

// --- tests --------------------------------------------------------------------------------

TEST(Http2, PriorKnowledgeRequestsReachTheAppAsHttp11ThroughTheRequestPath) {
  Backend be("a");
  Corral corral(h2c_config(be));
  auto r = curl_h2({url(corral, "/headers"), "-H", "X-Request-Id: h2-test-1"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.status_line, "2 200");
  auto seen = boost::json::parse(r.body).as_object();
  EXPECT_EQ(seen["httpVersion"].as_string(), "1.1");
  auto& h = seen["headers"].as_object();
  EXPECT_EQ(h["host"].as_string(), "127.0.0.1:" + std::to_string(corral.port()));
  EXPECT_EQ(h["x-forwarded-for"].as_string(), "127.0.0.1");
  EXPECT_EQ(h["x-forwarded-proto"].as_string(), "http");
  EXPECT_EQ(h["x-request-id"].as_string(), "h2-test-1");
  // The access log has the request like any other.
  corral.process().wait_for_line(std::regex("\"GET /headers HTTP/2\\.0\" 200 .*rid=h2-test-1"), 5s);
}

TEST(Http2, ManyStreamsOnOneConnectionAreEachServed) {
  Backend be("a");
  Corral corral(h2c_config(be));
  // h2load (nghttp2's load generator): 300 requests, 50 streams at a time, on one connection.
  auto r = run_command({"h2load", "-n", "300", "-c", "1", "-m", "50", url(corral, "/bytes?n=3000")},
                       30s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("300 succeeded, 0 failed"), std::string::npos) << r.out;
  EXPECT_EQ(corral.wait_metric("corral_requests_total", {{"class", "2xx"}},
                               [](double v) { return v >= 300; }),
            300);
  EXPECT_EQ(corral.metric("corral_connections_accepted_total").value_or(0), 1);
}

TEST(Http2, BodiesBothWaysAndLargeResponsesGoThrough) {
  Backend be("a");
  Corral corral(h2c_config(be));
  TempDir dir;
  std::string body(3 * 1024 * 1024, 'q');
  auto file = dir.write("body", body);
  auto up = curl_h2({url(corral, "/upload"), "--data-binary", "@" + file.string()});
  EXPECT_EQ(up.status_line, "2 200");
  EXPECT_NE(up.body.find("\"bytes\":3145728"), std::string::npos) << up.body;
  auto down = curl_h2({url(corral, "/bytes?n=5000000")});
  EXPECT_EQ(down.status_line, "2 200");
  ASSERT_EQ(down.body.size(), 5000000u);
  EXPECT_EQ(static_cast<unsigned char>(down.body[4999999]), 4999999 % 251);
}

TEST(Http2, Http11StillWorksOnAnH2cListener) {
  Backend be("a");
  Corral corral(h2c_config(be));
  auto res = http_get(corral.port(), "/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "a");
}

TEST(Http2, AHeaderListOverTheLimitGets431) {
  Backend be("a");
  auto cfg = h2c_config(be);
  cfg.limits["max_header_bytes"] = "8KiB";
  Corral corral(cfg);
  auto big = curl_h2({url(corral, "/"), "-H", "X-Big: " + std::string(10000, 'b')});
  EXPECT_EQ(big.status_line, "2 431");
  EXPECT_EQ(be.counts().seen, 0);
  EXPECT_EQ(curl_h2({url(corral, "/")}).status_line, "2 200");
}

TEST(Http2, TheConcurrentStreamLimitIsAdvertised) {
  Backend be("a");
  Corral corral(h2c_config(be, "http2: { max_concurrent_streams: 7 }\n"));
  RawH2 c(corral.port());
  c.send(preface + frame(0x4, 0, 0, ""));
  Frame settings = c.until(0x4);
  ASSERT_EQ(settings.type, 0x4);
  bool found = false;
  for (std::size_t i = 0; i + 6 <= settings.payload.size(); i += 6) {
    int id = (static_cast<unsigned char>(settings.payload[i]) << 8) |
             static_cast<unsigned char>(settings.payload[i + 1]);
    if (id == 0x3) {
      found = true;
      EXPECT_EQ(u32(settings.payload, i + 2), 7u);
    }
  }
  EXPECT_TRUE(found);
}

TEST(Http2, CorralsOwnAnswerGoesOutOnTheStreamWithoutABodyForHead) {
  ClosedPort dead;
  CorralConfig cfg;
  cfg.listen = {"{ address: \"127.0.0.1:0\", h2c: true }"};
  cfg.add(dead.address());
  Corral corral(cfg);
  auto get = curl_h2({"-D", "-", url(corral, "/")});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.status_line, "2 502");
  EXPECT_NE(get.body.find("x-request-id: "), std::string::npos) << get.body;
  EXPECT_EQ(get.body.find("connection:"), std::string::npos) << get.body;
  EXPECT_NE(get.body.find("upstream"), std::string::npos) << get.body;  // the text body
  auto head = curl_h2({"-I", url(corral, "/")});
  EXPECT_EQ(head.exit_code, 0) << "a HEAD answer with DATA is a stream error";
  // 503 once the upstream is ejected after its connect failures
  EXPECT_TRUE(head.status_line == "2 502" || head.status_line == "2 503") << head.status_line;
}

TEST(Http2, ARapidResetFloodEndsTheConnectionAndCorralServesOthers) {
  Backend be("a");
  Corral corral(h2c_config(be, "http2: { reset_burst: 20, reset_rate: 5 }\n"));
  RawH2 c(corral.port());
  c.send(preface + frame(0x4, 0, 0, ""));
  // Rounds of 10 requests each reset at once, as long as the connection lasts (at most 2000).
  const std::string cancel("\x00\x00\x00\x08", 4);
  std::uint32_t id = 1;
  bool goaway = false, closed = false;
  while (id < 4000 && !closed) {
    std::string round;
    for (int i = 0; i < 10; ++i, id += 2)
      round += frame(0x1, 0x5, id, get_root) + frame(0x3, 0, id, cancel);
    try {
      c.send(round);
    } catch (const std::exception&) {
      closed = true;
      break;
    }
    for (;;) {  // what corral answered to this round
      Frame f = c.next(Millis(30));
      if (f.type == -1) closed = true;
      if (f.type < 0) break;
      if (f.type == 0x7 && u32(f.payload, 4) != 0) goaway = true;
    }
    if (goaway) closed = c.until(-2, 5s).type == -1;
  }
  EXPECT_TRUE(goaway) << "no GOAWAY after " << id / 2 << " resets";
  EXPECT_TRUE(closed);
  EXPECT_LT(id / 2, 400u);  // ended long before the flood did
  EXPECT_EQ(curl_h2({url(corral, "/")}).status_line, "2 200");
}

TEST(Http2, AContinuationFloodEndsTheConnection) {
  Backend be("a");
  Corral corral(h2c_config(be));
  RawH2 c(corral.port());
  std::string flood = preface + frame(0x4, 0, 0, "") + frame(0x1, 0x1, 1, std::string("\x82", 1));
  for (int i = 0; i < 1000; ++i) flood += frame(0x9, 0, 1, std::string("\x84", 1));
  try {
    c.send(flood);
  } catch (const std::exception&) {
    // corral may close before it has read everything
  }
  EXPECT_EQ(c.until(-2, 5s).type, -1);
  EXPECT_EQ(be.counts().seen, 0);
  EXPECT_EQ(curl_h2({url(corral, "/")}).status_line, "2 200");
}

TEST(Http2, AStreamTheClientResetsLeavesTheConnectionUsable) {
  // A stream reset while its upstream is still answering; the next stream is served.
  Backend be("a");
  Corral corral(h2c_config(be));
  RawH2 c(corral.port());
  c.send(preface + frame(0x4, 0, 0, "") + frame(0x1, 0x5, 1, get_path("/slow?ms=1500")));
  ASSERT_TRUE(be.wait_slow_begin(5s));
  c.send(frame(0x3, 0, 1, std::string("\x00\x00\x00\x08", 4)));
  // The connection stays usable: a new stream is answered.
  c.send(frame(0x1, 0x5, 3, get_root));
  Frame headers;
  for (;;) {
    headers = c.next(5s);
    if (headers.type == -1 || (headers.type == 0x1 && headers.stream == 3)) break;
  }
  EXPECT_EQ(headers.type, 0x1);
}

TEST(Http2, DrainSendsGoAwayAndLetsTheStreamFinish) {
  Backend be("a");
  Corral corral(h2c_config(be));
  RawH2 c(corral.port());
  c.send(preface + frame(0x4, 0, 0, "") + frame(0x1, 0x5, 1, get_path("/slow?ms=800")));
  ASSERT_TRUE(be.wait_slow_begin(5s));
  corral.process().terminate();
  bool goaway = false, answered = false;
  for (;;) {
    Frame f = c.next(10s);
    if (f.type == -1) break;
    if (f.type == 0x7) goaway = true;
    if (f.type == 0x0 && f.stream == 1 && (f.flags & 0x1)) answered = true;
  }
  EXPECT_TRUE(goaway);
  EXPECT_TRUE(answered);
}

}  // namespace
}  // namespace corral::test
