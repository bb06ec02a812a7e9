#pragma once
// A worker command written as one string, split into argv the way a POSIX shell splits words,
// without running a shell: no variables, globs, pipes or redirections.
#include <string>
#include <string_view>
#include <vector>

namespace corral::config {

// The words of a command, or why it cannot be split.
struct SplitCommand {
  std::vector<std::string> argv;
  std::string error;  // empty on success

  bool ok() const { return error.empty(); }
};

// Words are separated by blanks (space, tab, newline). 'single quotes' keep everything
// literally; "double quotes" keep everything but a backslash before " \ $ ` or a newline;
// outside quotes a backslash keeps the next character. An unquoted |, &, ;, <, >, ( or ) is
// refused (that needs a shell: write it as ["sh", "-c", "..."]), as is an unterminated quote.
SplitCommand split_command(std::string_view text);

}  // namespace corral::config
