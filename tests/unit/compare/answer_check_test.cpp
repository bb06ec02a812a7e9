#include "proxy/compare/answer_check.hpp"

#include <gtest/gtest.h>

namespace corral::compare {
namespace {

TEST(AnswerCheck, MeKnowsTheUser) {
  EXPECT_EQ(check_me({200, R"({"user":"u1s1"})"}, "u1s1"), Verdict::ok);
  EXPECT_EQ(check_me({401, R"({"error":"not logged in"})"}, "u1s1"), Verdict::lost);
  // Another user's name: a user "u1s1" must not match inside "u1s12".
  EXPECT_EQ(check_me({200, R"({"user":"u1s12"})"}, "u1s1"), Verdict::lost);
}

TEST(AnswerCheck, NoAnswerOrServerErrorIsAFailureNotALoss) {
  EXPECT_EQ(check_me({0, ""}, "a"), Verdict::failed);
  EXPECT_EQ(check_me({502, "bad gateway"}, "a"), Verdict::failed);
  EXPECT_EQ(check_cart({503, ""}, "a", {"x"}), Verdict::failed);
  EXPECT_EQ(check_me({404, ""}, "a"), Verdict::failed);
}

TEST(AnswerCheck, CartMustHoldEveryItem) {
  const std::string body = R"({"user":"ann","cart":["ann1","ann2"]})";
  EXPECT_EQ(check_cart({200, body}, "ann", {"ann1", "ann2"}), Verdict::ok);
  EXPECT_EQ(check_cart({200, body}, "ann", {"ann1", "ann2", "ann3"}), Verdict::lost);
  EXPECT_EQ(check_cart({200, R"({"user":"ann","cart":[]})"}, "ann", {}), Verdict::ok);
}

TEST(AnswerCheck, Login) {
  EXPECT_EQ(check_login({200, ""}), Verdict::ok);
  EXPECT_EQ(check_login({503, ""}), Verdict::failed);
}

}  // namespace
}  // namespace corral::compare
