#include "session/session_id.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace corral::session {
namespace {

TEST(SessionId, GeneratedIdsAre22Base64UrlCharacters) {
  auto id = generate_session_id();
  ASSERT_TRUE(id);
  EXPECT_EQ(id->view().size(), 22u);
  EXPECT_EQ(id->view().find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string_view::npos);
}

TEST(SessionId, GeneratedIdsParseBack) {
  for (int i = 0; i < 200; ++i) {
    auto id = generate_session_id();
    ASSERT_TRUE(id);
    auto parsed = parse_session_id(id->view());
    ASSERT_TRUE(parsed) << id->view();
    EXPECT_EQ(parsed->view(), id->view());
  }
}

TEST(SessionId, GeneratedIdsDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(std::string(generate_session_id()->view()));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(SessionId, ParseRejectsOtherShapes) {
  EXPECT_TRUE(parse_session_id("AAAAAAAAAAAAAAAAAAAAAA"));
  EXPECT_TRUE(parse_session_id("-_-_-_-_-_-_-_-_-_-_-w"));
  EXPECT_FALSE(parse_session_id(""));
  EXPECT_FALSE(parse_session_id("AAAAAAAAAAAAAAAAAAAAA"));    // 21
  EXPECT_FALSE(parse_session_id("AAAAAAAAAAAAAAAAAAAAAAA"));  // 23
  EXPECT_FALSE(parse_session_id("AAAAAAAAAAAAAAAAAAAA+A"));   // base64, not base64url
  EXPECT_FALSE(parse_session_id("AAAAAAAAAAAAAAAAAAAAA="));
  EXPECT_FALSE(parse_session_id("AAAAAAAAAAAAAAAAAAAA A"));
  EXPECT_FALSE(parse_session_id("AAAAAAAAAAAAAAAAAAAAAB"));  // stray bits past 128
}

}  // namespace
}  // namespace corral::session
