// The HTTP/2 front end on a loopback TCP connection: nghttp2's client on one side, a small
// app reading each stream's request from its pipe and answering through its responder on the
// other.
#include "proxy/h2/h2_front.hpp"

#include <map>

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include "tests/unit/h2/h2_test_client.hpp"

namespace corral::proxy::h2 {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// The app: reads each stream's request from its pipe and answers through the stream's
// responder with what it saw; /big answers `big_size` bytes in pieces, as the responder makes
// room; /hang never answers (and notes when its client went away).
struct App {
  std::size_t big_size = 1 << 20;
  int served = 0;
  int saw_reset = 0;
  std::vector<std::shared_ptr<StreamResponder>> hung;  // /hang's responders, kept
  asio::awaitable<void> serve(PipeEnd pipe, std::string head,
                              std::shared_ptr<StreamResponder> out) {
    boost::beast::flat_buffer buf;
    buf.commit(asio::buffer_copy(buf.prepare(head.size()), asio::buffer(head)));
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(pipe, buf, req, nothrow);
    if (ec) {
      out->finish();
      co_return;
    }
    if (req.target() == "/hang") {
      hung.push_back(out);
      char c;
      auto [rec, rn] = co_await pipe.async_read_some(asio::buffer(&c, 1), nothrow);
      if (rec == asio::error::connection_reset) ++saw_reset;
      out->finish();
      co_return;
    }
    http::fields fields;
    if (req.target() == "/raw") {  // connection-specific fields, to be left out
      fields.set(http::field::connection, "keep-alive, X-Drop");
      fields.set("X-Drop", "1");
      fields.set("X-Keep", "2");
      fields.set(http::field::keep_alive, "timeout=5");
      fields.set(http::field::transfer_encoding, "chunked");
      out->respond(200, fields, false);
      out->send_body("abc", false);
      out->send_body("de", true);
      ++served;
      out->finish();
      co_return;
    }
    fields.set("X-Seen", std::string(req.method_string()) + " " + std::string(req.target()) + " " +
                             std::to_string(req.body().size()) + " " +
                             std::string(req[http::field::cookie]) + " " +
                             std::string(req[http::field::host]));
    const std::string body = req.target() == "/big" ? std::string(big_size, 'b') : "ok";
    fields.set(http::field::content_length, std::to_string(body.size()));
    out->respond(200, fields, false);
    for (std::size_t at = 0; at < body.size();) {
      while (!out->has_room())
        if (!co_await out->wait_room()) co_return;
      const std::size_t piece = std::min<std::size_t>(16 * 1024, body.size() - at);
      out->send_body(std::string_view(body).substr(at, piece), at + piece == body.size());
      at += piece;
    }
    ++served;
    out->finish();
  }
};

// Requests as a plain-text client sends them to the app's host.
struct Client : test::Client {
  Client() : test::Client("http", "app.test") {}
};

struct H2Front : ::testing::Test {
  asio::io_context io;
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  App app;
  Limits limits;
  std::weak_ptr<Front<tcp::socket>> front;

  void serve_one() {
    asio::co_spawn(io, [this]() -> asio::awaitable<void> {
      auto [ec, s] = co_await acceptor.async_accept(nothrow);
      if (ec) co_return;
      auto f = std::make_shared<Front<tcp::socket>>(
          std::move(s), limits,
          [this](PipeEnd end, std::string_view head, std::shared_ptr<StreamResponder> out) {
            asio::co_spawn(io, app.serve(std::move(end), std::string(head), std::move(out)),
                           asio::detached);
          },
          std::chrono::seconds(5));
      front = f;
      co_await f->run();
    }, asio::detached);
  }

  template <typename Body>
  void client(Body body) {
    bool finished = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      tcp::socket s(io);
      co_await s.async_connect(acceptor.local_endpoint(), nothrow);
      co_await body(s);
      finished = true;
    }, asio::detached);
    io.run_for(10s);
    EXPECT_TRUE(finished);
  }
};

TEST_F(H2Front, StreamsAreServedAsHttp11RequestsAndAnsweredOnTheirStreams) {
  serve_one();
  Client c;
  std::vector<std::int32_t> ids;
  client([&](tcp::socket& s) -> asio::awaitable<void> {
    for (int i = 0; i < 10; ++i)
      ids.push_back(c.request("GET", "/item/" + std::to_string(i), {{"cookie", "a=1"}, {"cookie", "b=2"}}));
    co_await c.talk(s, [&] {
      for (auto id : ids) if (!c.responses[id].closed) return false;
      return true;
    });
  });
  for (int i = 0; i < 10; ++i) {
    auto& r = c.responses[ids[i]];
    EXPECT_EQ(r.headers[":status"], "200");
    EXPECT_EQ(r.headers["x-seen"], "GET /item/" + std::to_string(i) + " 0 a=1; b=2 app.test");
    EXPECT_EQ(r.headers.count("connection"), 0u);
    EXPECT_EQ(r.body, "ok");
    EXPECT_EQ(r.error, 0u);
  }
  EXPECT_EQ(app.served, 10);
}

TEST_F(H2Front, AResponseLosesItsConnectionSpecificFields) {
  serve_one();
  Client c;
  std::int32_t id = 0;
  client([&](tcp::socket& s) -> asio::awaitable<void> {
    id = c.request("GET", "/raw");
    co_await c.talk(s, [&] { return c.responses[id].closed; });
  });
  auto& r = c.responses[id];
  EXPECT_EQ(r.headers[":status"], "200");
  EXPECT_EQ(r.headers["x-keep"], "2");
  EXPECT_EQ(r.headers.count("x-drop"), 0u);
  EXPECT_EQ(r.headers.count("connection"), 0u);
  EXPECT_EQ(r.headers.count("keep-alive"), 0u);
  EXPECT_EQ(r.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(r.body, "abcde");
  EXPECT_EQ(r.error, 0u);
}

TEST_F(H2Front, ARequestBodyAndALargeResponseGoThroughFlowControl) {
  serve_one();
  Client c;
  std::string payload(300000, 'p');
  test::BodySource src(payload);
  nghttp2_data_provider prd = src.provider();
  std::int32_t post = 0, big = 0;
  client([&](tcp::socket& s) -> asio::awaitable<void> {
    post = c.request("POST", "/upload", {}, &prd);
    big = c.request("GET", "/big");
    co_await c.talk(s, [&] { return c.responses[post].closed && c.responses[big].closed; });
  });
  EXPECT_EQ(c.responses[post].headers["x-seen"], "POST /upload 300000  app.test");
  EXPECT_EQ(c.responses[big].body.size(), app.big_size);
  EXPECT_EQ(c.responses[big].headers["content-length"], std::to_string(app.big_size));
}

TEST_F(H2Front, AStreamTheClientResetsReachesTheAppAsItsClientGoingAway) {
  serve_one();
  Client c;
  client([&](tcp::socket& s) -> asio::awaitable<void> {
    auto hang = c.request("GET", "/hang");
    auto ok = c.request("GET", "/ok");
    co_await c.talk(s, [&] { return c.responses[ok].closed; });
    nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, hang, NGHTTP2_CANCEL);
    auto after = c.request("GET", "/after");
    co_await c.talk(s, [&] { return c.responses[after].closed; });
  });
  EXPECT_EQ(app.saw_reset, 1);
  EXPECT_EQ(app.served, 2);
}

TEST_F(H2Front, AResponderThatOutlivesItsConnectionDoesNothing) {
  serve_one();
  Client c;
  client([&](tcp::socket& s) -> asio::awaitable<void> {
    auto hang = c.request("GET", "/hang");
    auto ok = c.request("GET", "/ok");
    co_await c.talk(s, [&] { return c.responses[ok].closed; });
    (void)hang;
    s.close();  // the connection ends with /hang unanswered
  });
  EXPECT_TRUE(front.expired());
  ASSERT_EQ(app.hung.size(), 1u);
  auto& late = *app.hung[0];
  EXPECT_FALSE(late.open());
  EXPECT_FALSE(late.has_room());
  http::fields f;
  f.set("X-Late", "1");
  late.respond(200, f, false);  // neither the codec nor the connection's scratch is touched
  late.send_body("late", true);
  late.finish();
}

TEST_F(H2Front, StreamsResetInTheSameReadNeverReachTheApp) {
  limits.reset_burst = 20;
  limits.reset_rate = 5;
  serve_one();
  Client c;
  client([&](tcp::socket& s) -> asio::awaitable<void> {
    auto frame = [](std::uint8_t type, std::uint8_t flags, std::uint32_t id, std::string p) {
      std::string f;
      for (int shift : {16, 8, 0}) f.push_back(static_cast<char>(p.size() >> shift));
      f.push_back(static_cast<char>(type));
      f.push_back(static_cast<char>(flags));
      for (int shift : {24, 16, 8, 0}) f.push_back(static_cast<char>(id >> shift));
      return f + p;
    };
    std::string out = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(0x4, 0, 0, "");
    for (std::uint32_t id = 1; id < 200; id += 2)
      out += frame(0x1, 0x5, id, std::string("\x82\x86\x84\x01\x01x", 6)) +
             frame(0x3, 0, id, std::string("\0\0\0\x08", 4));
    co_await asio::async_write(s, asio::buffer(out), nothrow);
    std::array<char, 4096> buf;
    for (;;) {
      auto [ec, k] = co_await s.async_read_some(asio::buffer(buf), nothrow);
      if (ec) break;
    }
  });
  EXPECT_EQ(app.served, 0);
}

TEST_F(H2Front, DrainSendsGoAwayAndClosesOnceStreamsAreDone) {
  serve_one();
  Client c;
  bool closed = false;
  client([&](tcp::socket& s) -> asio::awaitable<void> {
    auto id = c.request("GET", "/first");
    co_await c.talk(s, [&] { return c.responses[id].closed; });
    front.lock()->drain();
    std::array<char, 1024> buf;
    for (;;) {  // GOAWAY, then the close
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), nothrow);
      if (ec) { closed = true; break; }
    }
  });
  EXPECT_TRUE(closed);
  EXPECT_TRUE(front.expired());
}

}  // namespace
}  // namespace corral::proxy::h2
