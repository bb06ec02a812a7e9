#include "config/command.hpp"

#include <gtest/gtest.h>

namespace corral::config {
namespace {

using Words = std::vector<std::string>;

Words words(std::string_view text) {
  SplitCommand split = split_command(text);
  EXPECT_TRUE(split.ok()) << text << ": " << split.error;
  return split.argv;
}

std::string error_of(std::string_view text) {
  SplitCommand split = split_command(text);
  EXPECT_FALSE(split.ok()) << text;
  EXPECT_TRUE(split.argv.empty());
  return split.error;
}

TEST(SplitCommand, BlanksSeparateWords) {
  EXPECT_EQ(words("node server.js"), (Words{"node", "server.js"}));
  EXPECT_EQ(words("  node\t server.js \n --port=1 "), (Words{"node", "server.js", "--port=1"}));
}

TEST(SplitCommand, SingleQuotesKeepEverything) {
  EXPECT_EQ(words("echo 'a  b' 'c\\d' '$HOME'"), (Words{"echo", "a  b", "c\\d", "$HOME"}));
}

TEST(SplitCommand, DoubleQuotesUnescapeOnlyShellSpecials) {
  EXPECT_EQ(words(R"(echo "a \"b\" \\ \$x \n")"), (Words{"echo", R"(a "b" \ $x \n)"}));
}

TEST(SplitCommand, QuotesJoinWithNeighbours) {
  EXPECT_EQ(words(R"(--name='a b'"c d"e)"), (Words{"--name=a bc de"}));
}

TEST(SplitCommand, EmptyQuotesAreAnEmptyWord) {
  EXPECT_EQ(words("app '' \"\""), (Words{"app", "", ""}));
}

TEST(SplitCommand, BackslashKeepsTheNextCharacter) {
  EXPECT_EQ(words(R"(a\ b c\|d)"), (Words{"a b", "c|d"}));
  EXPECT_EQ(words("a\\\nb"), (Words{"ab"}));
}

TEST(SplitCommand, NoVariablesOrGlobs) {
  EXPECT_EQ(words("ls $HOME *.js ~"), (Words{"ls", "$HOME", "*.js", "~"}));
}

TEST(SplitCommand, ShellOperatorsAreRefused) {
  EXPECT_EQ(error_of("node a.js | tee log"),
            "'|' needs a shell, which corral does not run; quote it, or write the command as "
            "[\"sh\", \"-c\", \"...\"]");
  EXPECT_NE(error_of("a && b"), "");
  EXPECT_NE(error_of("a > log"), "");
  EXPECT_NE(error_of("a; b"), "");
  EXPECT_EQ(words("a '|' \"&&\""), (Words{"a", "|", "&&"}));
}

TEST(SplitCommand, BrokenInput) {
  EXPECT_EQ(error_of("echo 'open"), "unterminated ' quote");
  EXPECT_EQ(error_of("echo \"open"), "unterminated \" quote");
  EXPECT_EQ(error_of("echo \\"), "a backslash at the end escapes nothing");
  EXPECT_EQ(error_of("   "), "the command is empty");
}

}  // namespace
}  // namespace corral::config
