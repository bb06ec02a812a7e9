#include "proxy/h2/h1_translation.hpp"

#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

namespace corral::proxy::h2 {
namespace {

namespace http = boost::beast::http;

RequestHead head(std::vector<Field> fields) {
  RequestHead h;
  h.method = "POST";
  h.scheme = "https";
  h.authority = "shop.example";
  h.path = "/cart/add?item=1";
  h.fields = std::move(fields);
  for (auto& f : h.fields) h.has_content_length |= f.name == "content-length";
  return h;
}

TEST(H1Translation, ARequestBecomesAnHttp11HeadWithHostFromAuthority) {
  bool chunked = true;
  auto text = to_http1_request(head({{"accept", "*/*"}, {"host", "other"}}), false, &chunked);
  EXPECT_FALSE(chunked);
  EXPECT_EQ(text, "POST /cart/add?item=1 HTTP/1.1\r\nhost: shop.example\r\naccept: */*\r\n\r\n");
}

TEST(H1Translation, CookieCrumbsAreJoinedIntoOneField) {
  bool chunked;
  auto text = to_http1_request(head({{"cookie", "a=1"}, {"x", "y"}, {"cookie", "b=2"}}), false, &chunked);
  EXPECT_NE(text.find("cookie: a=1; b=2\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("b=2\r\ncookie"), std::string::npos);
}

TEST(H1Translation, ABodyOfUnknownLengthIsChunkedAndAKnownOneKeepsItsLength) {
  bool chunked = false;
  auto text = to_http1_request(head({}), true, &chunked);
  EXPECT_TRUE(chunked);
  EXPECT_NE(text.find("transfer-encoding: chunked\r\n"), std::string::npos);
  text = to_http1_request(head({{"content-length", "5"}}), true, &chunked);
  EXPECT_FALSE(chunked);
  EXPECT_EQ(text.find("transfer-encoding"), std::string::npos);
  std::string body;
  append_chunk(body, "hello");
  append_chunk(body, "");
  EXPECT_EQ(body + std::string(last_chunk), "5\r\nhello\r\n0\r\n\r\n");
}

TEST(H1Translation, TeAndExpectAreLeftOut) {
  bool chunked;
  auto text = to_http1_request(head({{"te", "trailers"}, {"expect", "100-continue"}}), false, &chunked);
  EXPECT_EQ(text.find("te:"), std::string::npos);
  EXPECT_EQ(text.find("expect"), std::string::npos);
}

TEST(H1Translation, AResponseLosesConnectionSpecificFieldsAndIsLowerCased) {
  http::fields f;
  f.insert("Content-Type", "text/html");
  f.insert("Connection", "keep-alive, X-Hop");
  f.insert("X-Hop", "1");
  f.insert("Keep-Alive", "timeout=5");
  f.insert("Transfer-Encoding", "chunked");
  f.insert("Set-Cookie", "a=1");
  f.insert("Set-Cookie", "b=2");
  auto out = to_h2_response(f);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].name, "content-type");
  EXPECT_EQ(out[1].name, "set-cookie");
  EXPECT_EQ(out[1].value, "a=1");
  EXPECT_EQ(out[2].value, "b=2");
}

TEST(H1Translation, AResponsesFieldViewsLeaveOutConnectionSpecificOnesInPlace) {
  http::fields f;
  f.insert("Content-Type", "text/html");
  f.insert("Connection", "keep-alive, X-Hop");
  f.insert("X-Hop", "1");
  f.insert("Proxy-Connection", "close");
  f.insert("Upgrade", "websocket");
  f.insert("Set-Cookie", "a=1");
  f.insert("Set-Cookie", "b=2");
  std::vector<FieldView> out{{"stale", "x"}};
  response_field_views(f, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].name, "Content-Type");  // as it is: the codec lower-cases its copy
  EXPECT_EQ(out[0].value, "text/html");
  EXPECT_EQ(out[1].name, "Set-Cookie");
  EXPECT_EQ(out[2].value, "b=2");
  EXPECT_EQ(out[0].value.data(), f.find("Content-Type")->value().data());  // not copied
  http::fields none;
  response_field_views(none, out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace corral::proxy::h2
