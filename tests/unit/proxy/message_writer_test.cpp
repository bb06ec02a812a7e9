#include "proxy/message_writer.hpp"

#include <string>
#include <vector>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>

namespace corral::proxy {
namespace {

namespace http = boost::beast::http;

template <class Header>
std::string head_of(const Header& h) {
  std::string out(head_size(h), '\0');
  char* end = write_head(h, out.data());
  EXPECT_EQ(end, out.data() + out.size());
  return out;
}

// What Beast's own serializer writes for the same head: the reference the writer must match.
template <bool isRequest>
std::string beast_head(const http::header<isRequest, Fields>& h) {
  http::message<isRequest, http::empty_body, Fields> m{h};
  http::serializer<isRequest, http::empty_body, Fields> sr{m};
  sr.split(true);
  std::string out;
  boost::system::error_code ec;
  while (!sr.is_header_done()) {
    sr.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      out += boost::beast::buffers_to_string(buffers);
      sr.consume(boost::beast::buffer_bytes(buffers));
    });
  }
  return out;
}

std::string joined(std::span<const asio::const_buffer> buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(MessageWriter, RequestHeadIsWhatBeastWrites) {
  RequestHeader h;
  h.method(http::verb::post);
  h.target("/a/b?c=d");
  h.version(11);
  h.set(http::field::host, "example.test");
  h.insert("X-Custom", "one");
  h.insert("x-custom", "two");
  h.set(http::field::content_length, "5");
  EXPECT_EQ(head_of(h), beast_head(h));
  EXPECT_EQ(head_of(h),
            "POST /a/b?c=d HTTP/1.1\r\nHost: example.test\r\nX-Custom: one\r\nx-custom: two\r\n"
            "Content-Length: 5\r\n\r\n");
}

TEST(MessageWriter, UnknownMethodAndHttp10) {
  RequestHeader h;
  h.method_string("PURGE");
  h.target("*");
  h.version(10);
  EXPECT_EQ(head_of(h), beast_head(h));
  EXPECT_EQ(head_of(h), "PURGE * HTTP/1.0\r\n\r\n");
}

TEST(MessageWriter, ResponseHeadKeepsTheUpstreamsReason) {
  ResponseHeader h;
  h.result(404);
  h.reason("Nothing Here");
  h.version(11);
  h.set(http::field::content_type, "text/plain");
  EXPECT_EQ(head_of(h), beast_head(h));
  EXPECT_EQ(head_of(h), "HTTP/1.1 404 Nothing Here\r\nContent-Type: text/plain\r\n\r\n");
}

TEST(MessageWriter, ResponseHeadWithoutReasonAndUnknownStatus) {
  ResponseHeader ok;
  ok.result(http::status::ok);
  ok.version(10);
  EXPECT_EQ(head_of(ok), beast_head(ok));
  EXPECT_EQ(head_of(ok), "HTTP/1.0 200 OK\r\n\r\n");
  ResponseHeader odd;
  odd.result(599);
  odd.version(11);
  EXPECT_EQ(head_of(odd), beast_head(odd));
}

TEST(MessageWriter, PlainBodyFollowsTheHeadInOneWrite) {
  MessageWriter w{"HEAD\r\n\r\n", /*chunked=*/false, /*bodyless=*/false};
  EXPECT_EQ(joined(w.next("hello", 5, false)), "HEAD\r\n\r\nhello");
  EXPECT_TRUE(w.head_sent());
  EXPECT_EQ(joined(w.next("world", 5, true)), "world");
  EXPECT_TRUE(w.next(nullptr, 0, true).empty());
}

TEST(MessageWriter, ChunkedBodyIsFramedAndEnded) {
  MessageWriter w{"H\r\n\r\n", /*chunked=*/true, /*bodyless=*/false};
  EXPECT_EQ(joined(w.next(nullptr, 0, false)), "H\r\n\r\n");
  EXPECT_TRUE(w.next(nullptr, 0, false).empty());  // nothing new: no empty chunk, which would end it
  std::string big(300, 'x');
  EXPECT_EQ(joined(w.next(big.data(), big.size(), false)), "12c\r\n" + big + "\r\n");
  EXPECT_EQ(joined(w.next("ab", 2, true)), "2\r\nab\r\n0\r\n\r\n");
}

TEST(MessageWriter, ChunkedWithoutBodyEndsAtOnce) {
  MessageWriter w{"H\r\n\r\n", /*chunked=*/true, /*bodyless=*/false};
  EXPECT_EQ(joined(w.next(nullptr, 0, true)), "H\r\n\r\n0\r\n\r\n");
}

TEST(MessageWriter, BodylessAnswerSendsOnlyTheHead) {
  // The answer to HEAD (or a 204 or 304) says chunked or a length, but carries no body.
  MessageWriter w{"H\r\n\r\n", /*chunked=*/true, /*bodyless=*/true};
  EXPECT_EQ(joined(w.next(nullptr, 0, true)), "H\r\n\r\n");
}

}  // namespace
}  // namespace corral::proxy
