#include "proxy/failure_answer.hpp"

#include <gtest/gtest.h>

namespace corral::proxy {
namespace {

using boost::beast::http::status;

TEST(FailureAnswer, TimeoutIs504AndCloses) {
  for (bool read : {true, false}) {
    auto a = failure_answer(ExchangeOutcome::gateway_timeout, read);
    EXPECT_TRUE(a.send);
    EXPECT_EQ(a.status, status::gateway_timeout);
    EXPECT_FALSE(a.message.empty());
    EXPECT_TRUE(a.close);
    EXPECT_FALSE(a.keep_alive);
  }
}

TEST(FailureAnswer, UpstreamFailureIs502AndKeepsAliveOnlyWhenTheRequestWasReadWhole) {
  for (auto o : {ExchangeOutcome::bad_gateway, ExchangeOutcome::retry, ExchangeOutcome::retry_same}) {
    auto whole = failure_answer(o, true);
    EXPECT_TRUE(whole.send);
    EXPECT_EQ(whole.status, status::bad_gateway);
    EXPECT_FALSE(whole.close);
    EXPECT_TRUE(whole.keep_alive);
    auto partial = failure_answer(o, false);
    EXPECT_EQ(partial.status, status::bad_gateway);
    EXPECT_TRUE(partial.close) << "an unread body would be taken for the next request";
    EXPECT_FALSE(partial.keep_alive);
  }
}

TEST(FailureAnswer, ClientSideFailuresSendNothingAndClose) {
  for (auto o : {ExchangeOutcome::client_error, ExchangeOutcome::abort}) {
    auto a = failure_answer(o, true);
    EXPECT_FALSE(a.send);
    EXPECT_FALSE(a.keep_alive);
  }
}

}  // namespace
}  // namespace corral::proxy
