#include "session/cookie.hpp"

#include <gtest/gtest.h>

namespace corral::session {
namespace {

constexpr long long now = 1'700'000'000;  // 2023-11-14T22:13:20Z

TEST(FindCookie, FindsEachCookieOfAHeader) {
  EXPECT_EQ(find_cookie("a=1; b=2; c=3", "a"), "1");
  EXPECT_EQ(find_cookie("a=1; b=2; c=3", "b"), "2");
  EXPECT_EQ(find_cookie("a=1; b=2; c=3", "c"), "3");
  EXPECT_EQ(find_cookie("a=1; b=2; c=3", "d"), std::nullopt);
}

TEST(FindCookie, ToleratesMissingAndExtraSpaces) {
  EXPECT_EQ(find_cookie("a=1;b=2", "b"), "2");
  EXPECT_EQ(find_cookie("  a = 1 ;\tb=2  ", "a"), "1");
  EXPECT_EQ(find_cookie("a=1;;  ; b=2;", "b"), "2");
}

TEST(FindCookie, ReturnsQuotedValuesWithoutQuotes) {
  EXPECT_EQ(find_cookie("sid=\"abc def\"; x=1", "sid"), "abc def");
  EXPECT_EQ(find_cookie("sid=\"", "sid"), "\"");
}

TEST(FindCookie, FirstMatchWins) { EXPECT_EQ(find_cookie("s=first; s=second", "s"), "first"); }

TEST(FindCookie, MatchesWholeCaseSensitiveNames) {
  EXPECT_EQ(find_cookie("ab=1; b=2", "b"), "2");
  EXPECT_EQ(find_cookie("ab=1", "a"), std::nullopt);
  EXPECT_EQ(find_cookie("SID=1", "sid"), std::nullopt);
}

TEST(FindCookie, KeepsEqualsSignsInValuesAndEmptyValues) {
  EXPECT_EQ(find_cookie("t=YWJj==; u=", "t"), "YWJj==");
  EXPECT_EQ(find_cookie("t=YWJj==; u=", "u"), "");
}

TEST(FindCookie, SkipsPairsWithoutEquals) {
  EXPECT_EQ(find_cookie("flag; a=1", "flag"), std::nullopt);
  EXPECT_EQ(find_cookie("flag; a=1", "a"), "1");
}

TEST(FindCookie, EmptyInputsFindNothing) {
  EXPECT_EQ(find_cookie("", "a"), std::nullopt);
  EXPECT_EQ(find_cookie("=1; a=2", ""), std::nullopt);
}

TEST(ParseSetCookie, SplitsNameAndValue) {
  const auto c = parse_set_cookie("sid=abc123; Path=/; HttpOnly; Secure", now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "sid");
  EXPECT_EQ(c->value, "abc123");
  EXPECT_FALSE(c->deletes);
}

TEST(ParseSetCookie, TrimsAndUnquotes) {
  const auto c = parse_set_cookie("  sid = \"a b\" ;Path=/", now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "sid");
  EXPECT_EQ(c->value, "a b");
}

TEST(ParseSetCookie, KeepsEqualsSignsInTheValue) {
  const auto c = parse_set_cookie("t=YWJj==; Max-Age=60", now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->value, "YWJj==");
}

TEST(ParseSetCookie, RejectsLinesWithoutNameValuePair) {
  EXPECT_EQ(parse_set_cookie("", now), std::nullopt);
  EXPECT_EQ(parse_set_cookie("sid", now), std::nullopt);
  EXPECT_EQ(parse_set_cookie("=abc; Path=/", now), std::nullopt);
  EXPECT_EQ(parse_set_cookie("sid; a=b", now), std::nullopt);
}

TEST(ParseSetCookie, MaxAgeZeroOrNegativeDeletes) {
  EXPECT_TRUE(parse_set_cookie("sid=; Max-Age=0", now)->deletes);
  EXPECT_TRUE(parse_set_cookie("sid=; Max-Age=-1", now)->deletes);
  EXPECT_TRUE(parse_set_cookie("sid=; Max-Age=-99999999999999999999999", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Max-Age=3600", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Max-Age=99999999999999999999999", now)->deletes);
}

TEST(ParseSetCookie, AttributeNamesAreCaseInsensitive) {
  EXPECT_TRUE(parse_set_cookie("sid=; MAX-AGE=0", now)->deletes);
  EXPECT_TRUE(parse_set_cookie("sid=; max-age = 0 ", now)->deletes);
  EXPECT_TRUE(parse_set_cookie("sid=; EXPIRES=Thu, 01 Jan 1970 00:00:00 GMT", now)->deletes);
}

TEST(ParseSetCookie, InvalidMaxAgeIsIgnored) {
  EXPECT_FALSE(parse_set_cookie("sid=x; Max-Age=abc", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Max-Age=", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Max-Age=-", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Max-Age=1e3; Max-Age", now)->deletes);
}

TEST(ParseSetCookie, LastMaxAgeWins) {
  EXPECT_FALSE(parse_set_cookie("sid=x; Max-Age=0; Max-Age=60", now)->deletes);
  EXPECT_TRUE(parse_set_cookie("sid=x; Max-Age=60; Max-Age=0", now)->deletes);
}

TEST(ParseSetCookie, ExpiresInThePastDeletes) {
  EXPECT_TRUE(parse_set_cookie("sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", now)->deletes);
  EXPECT_TRUE(parse_set_cookie("sid=; Path=/; Expires=Tue, 14 Nov 2023 22:13:19 GMT", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Expires=Tue, 14 Nov 2023 22:13:21 GMT", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Expires=Fri, 01 Jan 2100 00:00:00 GMT", now)->deletes);
}

TEST(ParseSetCookie, ExpiresEqualToNowDeletes) {
  EXPECT_TRUE(parse_set_cookie("sid=; Expires=Tue, 14 Nov 2023 22:13:20 GMT", now)->deletes);
}

TEST(ParseSetCookie, ReadsTheOlderDateFormatsBrowsersAccept) {
  // RFC 850 with two-digit year, the Netscape form with dashes, and asctime.
  EXPECT_TRUE(parse_set_cookie("sid=; expires=Thursday, 01-Jan-70 00:00:01 GMT", now)->deletes);
  EXPECT_TRUE(parse_set_cookie("sid=; expires=Thu, 01-Jan-1970 00:00:01 GMT", now)->deletes);
  EXPECT_TRUE(parse_set_cookie("sid=; expires=Thu Jan  1 00:00:00 1970", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; expires=Sunday, 06-Nov-44 08:49:37 GMT", now)->deletes);
}

TEST(ParseSetCookie, ComputesExactInstants) {
  // 2000-02-29T12:00:00Z = 951825600: a leap day, one second either side of `now`.
  constexpr long long leap_noon = 951'825'600;
  EXPECT_TRUE(parse_set_cookie("s=; Expires=Tue, 29 Feb 2000 12:00:00 GMT", leap_noon)->deletes);
  EXPECT_FALSE(parse_set_cookie("s=; Expires=Tue, 29 Feb 2000 12:00:00 GMT", leap_noon - 1)->deletes);
}

TEST(ParseSetCookie, UnparsableExpiresIsIgnored) {
  EXPECT_FALSE(parse_set_cookie("sid=x; Expires=yesterday", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Expires=", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Expires=Thu, 31 Feb 1970 00:00:00 GMT", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Expires=Thu, 01 Jan 1970 24:00:00 GMT", now)->deletes);
  EXPECT_FALSE(parse_set_cookie("sid=x; Expires=Thu, 01 Jan 1500 00:00:00 GMT", now)->deletes);
}

TEST(ParseSetCookie, MaxAgeWinsOverExpires) {
  EXPECT_FALSE(
      parse_set_cookie("sid=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60", now)->deletes);
  EXPECT_TRUE(
      parse_set_cookie("sid=x; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT", now)->deletes);
}

}  // namespace
}  // namespace corral::session
