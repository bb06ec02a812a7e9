#include "config/signal_name.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace corral::config {
namespace {

TEST(SignalName, WithOrWithoutPrefixAnyCase) {
  for (std::string_view text : {"SIGTERM", "TERM", "sigterm", "term"}) {
    auto signal = parse_signal_name(text);
    ASSERT_TRUE(signal) << text;
    EXPECT_EQ(signal->name, "SIGTERM");
    EXPECT_EQ(signal->number, SIGTERM);
  }
  EXPECT_EQ(parse_signal_name("SIGINT")->number, SIGINT);
  EXPECT_EQ(parse_signal_name("quit")->number, SIGQUIT);
  EXPECT_EQ(parse_signal_name("SIGKILL")->number, SIGKILL);
}

TEST(SignalName, Unknown) {
  EXPECT_FALSE(parse_signal_name("SIGSEGV"));
  EXPECT_FALSE(parse_signal_name("15"));
  EXPECT_FALSE(parse_signal_name(""));
}

}  // namespace
}  // namespace corral::config
