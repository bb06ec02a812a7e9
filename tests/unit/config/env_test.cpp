#include "config/env.hpp"

#include <gtest/gtest.h>

#include <map>

namespace corral::config {
namespace {

// A fixed environment, so the tests do not depend on the machine's.
EnvLookup environment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    auto it = variables.find(std::string(name));
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SubstituteEnv, ReplacesVariables) {
  auto env = environment({{"HOST", "10.0.0.5"}, {"PORT", "8080"}});
  auto result = substitute_env("${HOST}:${PORT}", env);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.text, "10.0.0.5:8080");
}

TEST(SubstituteEnv, TextWithoutVariablesIsKept) {
  auto result = substitute_env("127.0.0.1:80 costs $5", environment({}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.text, "127.0.0.1:80 costs $5");
}

TEST(SubstituteEnv, DefaultWhenUnsetOrEmpty) {
  auto env = environment({{"EMPTY", ""}, {"SET", "x"}});
  EXPECT_EQ(substitute_env("${HOST:-127.0.0.1}:80", env).text, "127.0.0.1:80");
  EXPECT_EQ(substitute_env("${EMPTY:-d}", env).text, "d");
  EXPECT_EQ(substitute_env("${SET:-d}", env).text, "x");
  EXPECT_EQ(substitute_env("${UNSET:-}", env).text, "");
}

TEST(SubstituteEnv, EmptyValueWithoutDefaultIsEmpty) {
  auto result = substitute_env("a${EMPTY}b", environment({{"EMPTY", ""}}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.text, "ab");
}

TEST(SubstituteEnv, UnsetVariableNamesIt) {
  auto result = substitute_env("${PORT}", environment({}));
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error,
            "environment variable 'PORT' is not set (write ${PORT:-default} to give a default)");
}

TEST(SubstituteEnv, EscapedDollarBrace) {
  auto result = substitute_env("$${PORT}", environment({}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.text, "${PORT}");
}

TEST(SubstituteEnv, Malformed) {
  EXPECT_EQ(substitute_env("${PORT", environment({})).error,
            "unterminated '${' (write $${ for a literal '${')");
  EXPECT_EQ(substitute_env("${}", environment({})).error, "'${}' is not a variable name");
  EXPECT_EQ(substitute_env("${1X}", environment({})).error, "'${1X}' is not a variable name");
  EXPECT_EQ(substitute_env("${A-B}", environment({})).error, "'${A-B}' is not a variable name");
}

TEST(SubstituteEnv, ProcessEnvironment) {
  ::setenv("CORRAL_ENV_TEST_PORT", "9000", 1);
  EXPECT_EQ(substitute_env("${CORRAL_ENV_TEST_PORT}").text, "9000");
  ::unsetenv("CORRAL_ENV_TEST_PORT");
  EXPECT_FALSE(substitute_env("${CORRAL_ENV_TEST_PORT}").ok());
}

}  // namespace
}  // namespace corral::config
