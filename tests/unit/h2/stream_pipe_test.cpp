#include "proxy/h2/stream_pipe.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

namespace corral::proxy::h2 {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using namespace std::chrono_literals;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

template <typename F>
void run(F f) {
  asio::io_context io;
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { co_await f(io); done = true; },
                 [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run_for(5s);
  EXPECT_TRUE(done);
}

TEST(StreamPipe, BeastReadsWhatBeastWroteAtTheOtherEnd) {
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, b] = make_pipe(io.get_executor(), 1024);
    http::request<http::string_body> req{http::verb::post, "/x", 11};
    req.set(http::field::host, "h");
    req.body() = std::string(5000, 'z');  // more than the pipe holds: the writer waits
    req.prepare_payload();
    auto writer = [&]() -> asio::awaitable<void> {
      auto [ec, n] = co_await http::async_write(a, req, nothrow);
      EXPECT_FALSE(ec) << ec.message();
    };
    asio::co_spawn(io, writer(), asio::detached);
    boost::beast::flat_buffer buf;
    http::request<http::string_body> got;
    auto [ec, n] = co_await http::async_read(b, buf, got, nothrow);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(got.target(), "/x");
    EXPECT_EQ(got.body().size(), 5000u);
  });
}

TEST(StreamPipe, TheOtherEndReadsEofAfterTheRest) {
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, b] = make_pipe(io.get_executor());
    co_await asio::async_write(a, asio::buffer(std::string_view("abc")), nothrow);
    a.shutdown_send();
    char buf[16];
    auto [ec1, n1] = co_await b.async_read_some(asio::buffer(buf), nothrow);
    EXPECT_FALSE(ec1);
    EXPECT_EQ(n1, 3u);
    auto [ec2, n2] = co_await b.async_read_some(asio::buffer(buf), nothrow);
    EXPECT_EQ(ec2, asio::error::eof);
    EXPECT_TRUE(b.peer_closed());
  });
}

TEST(StreamPipe, AResetFailsAWaitingReadAndLaterWrites) {
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, b] = make_pipe(io.get_executor());
    asio::post(io, [&a] { a.reset(); });
    char buf[16];
    auto [ec, n] = co_await b.async_read_some(asio::buffer(buf), nothrow);
    EXPECT_EQ(ec, asio::error::connection_reset);
    auto [wec, wn] = co_await b.async_write_some(asio::buffer(std::string_view("x")), nothrow);
    EXPECT_EQ(wec, asio::error::connection_reset);
  });
}

TEST(StreamPipe, AWaitingReadIsCancelledByTheAwaitableOr) {
  run([](asio::io_context& io) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto [a, b] = make_pipe(io.get_executor());
    asio::steady_timer t(io, 20ms);
    char buf[16];
    auto r = co_await (b.async_read_some(asio::buffer(buf), nothrow) || t.async_wait(nothrow));
    EXPECT_EQ(r.index(), 1u);
    // The pipe still works afterwards.
    co_await asio::async_write(a, asio::buffer(std::string_view("ok")), nothrow);
    auto [ec, n] = co_await b.async_read_some(asio::buffer(buf), nothrow);
    EXPECT_FALSE(ec);
    EXPECT_EQ(std::string_view(buf, n), "ok");
  });
}

TEST(StreamPipe, CancelCompletesThisEndsWaitingRead) {
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, b] = make_pipe(io.get_executor());
    asio::post(io, [&b] { b.cancel(); });
    char buf[4];
    auto [ec, n] = co_await b.async_read_some(asio::buffer(buf), nothrow);
    EXPECT_EQ(ec, asio::error::operation_aborted);
  });
}

}  // namespace
}  // namespace corral::proxy::h2

namespace corral::proxy::h2 {
namespace {

TEST(StreamPipe, WaitingForBytesTakesNoneAndEndsOnEof) {
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, b] = make_pipe(io.get_executor());
    asio::post(io, [&a] { asio::async_write(a, asio::buffer(std::string_view("hi")), asio::detached); });
    auto [ec, n] = co_await b.async_wait_readable(nothrow);
    EXPECT_FALSE(ec);
    EXPECT_EQ(b.available(), 2u);
    char buf[4];
    auto [rec, rn] = co_await b.async_read_some(asio::buffer(buf), nothrow);
    EXPECT_EQ(rn, 2u);
    asio::post(io, [&a] { a.shutdown_send(); });
    auto [ec2, n2] = co_await b.async_wait_readable(nothrow);
    EXPECT_FALSE(ec2);
    EXPECT_TRUE(b.peer_closed());
    EXPECT_EQ(b.available(), 0u);
  });
}

TEST(StreamPipe, BytesAreReadInPlaceAndTheirRoomGoesBackToTheWriter) {
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, b] = make_pipe(io.get_executor(), 4);
    bool written = false;
    auto writer = [&]() -> asio::awaitable<void> {
      auto [ec, n] = co_await asio::async_write(a, asio::buffer(std::string_view("abcdef")), nothrow);
      EXPECT_FALSE(ec);
      written = true;
      a.shutdown_send();
    };
    asio::co_spawn(io, writer(), asio::detached);
    auto [ec1, n1] = co_await b.async_wait_readable(nothrow);
    EXPECT_FALSE(ec1);
    EXPECT_EQ(b.peek(), "abcd");  // the pipe is full: the writer waits
    b.consume(1);
    // More than 3 bytes: what the writer adds now that there is room.
    auto [ec2, n2] = co_await b.async_wait_readable(3, nothrow);
    EXPECT_FALSE(ec2);
    EXPECT_EQ(b.peek(), "bcde");
    b.consume(4);
    auto [ec3, n3] = co_await b.async_wait_readable(nothrow);
    EXPECT_EQ(b.peek(), "f");
    b.consume(1);
    auto [ec4, n4] = co_await b.async_wait_readable(nothrow);
    EXPECT_FALSE(ec4);  // the end: nothing to read, and the writer is done
    EXPECT_TRUE(b.peer_closed());
    EXPECT_FALSE(b.was_reset());
    EXPECT_TRUE(b.peek().empty());
    EXPECT_TRUE(written);
  });
}

TEST(StreamPipe, AResetIsSeenByAWaitingPeek) {
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, b] = make_pipe(io.get_executor());
    co_await asio::async_write(a, asio::buffer(std::string_view("ab")), nothrow);
    asio::post(io, [&a = a] { a.reset(); });
    auto [ec, n] = co_await b.async_wait_readable(2, nothrow);
    EXPECT_EQ(ec, asio::error::connection_reset);
    EXPECT_TRUE(b.was_reset());
    EXPECT_TRUE(b.peek().empty());
  });
}

}  // namespace
}  // namespace corral::proxy::h2
