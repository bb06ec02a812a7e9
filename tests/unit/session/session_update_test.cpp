#include "session/session_update.hpp"

#include <gtest/gtest.h>

namespace corral::session {
namespace {

TEST(SessionUpdate, TopLevelFieldsAsJsonText) {
  auto fields = parse_session_update(R"({"user":"ann","cart":[1,2,{"x":null}],"n":3,"gone":null})");
  ASSERT_TRUE(fields);
  ASSERT_EQ(fields->size(), 4u);
  EXPECT_EQ((*fields)[0].name, R"("user")");
  EXPECT_EQ((*fields)[0].value, R"("ann")");
  EXPECT_EQ((*fields)[1].name, R"("cart")");
  EXPECT_EQ((*fields)[1].value, R"([1,2,{"x":null}])");
  EXPECT_EQ((*fields)[2].value, "3");
  EXPECT_EQ((*fields)[3].value, "null");
}

TEST(SessionUpdate, NamesAreEscapedJsonStrings) {
  auto fields = parse_session_update(R"({"a\"b":1,"é\n":2})");
  ASSERT_TRUE(fields);
  EXPECT_EQ((*fields)[0].name, R"("a\"b")");
  EXPECT_EQ((*fields)[1].name, "\"é\\n\"");
}

TEST(SessionUpdate, EmptyObjectIsAnEmptyUpdate) {
  auto fields = parse_session_update("{}");
  ASSERT_TRUE(fields);
  EXPECT_TRUE(fields->empty());
}

TEST(SessionUpdate, NotAnObjectIsRefused) {
  EXPECT_FALSE(parse_session_update(""));
  EXPECT_FALSE(parse_session_update("[1]"));
  EXPECT_FALSE(parse_session_update("\"x\""));
  EXPECT_FALSE(parse_session_update("{\"a\":"));
  EXPECT_FALSE(parse_session_update("{\"a\":1} trailing"));
}

}  // namespace
}  // namespace corral::session
