#include "config/command.hpp"

namespace corral::config {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool needs_shell(char c) {
  return c == '|' || c == '&' || c == ';' || c == '<' || c == '>' || c == '(' || c == ')';
}

}  // namespace

SplitCommand split_command(std::string_view text) {
  SplitCommand out;
  std::string word;
  bool in_word = false;  // "" is a word of its own, so quoting starts one
  std::size_t i = 0;
  auto fail = [&](std::string message) {
    out.argv.clear();
    out.error = std::move(message);
    return out;
  };
  while (i < text.size()) {
    char c = text[i];
    if (is_blank(c)) {
      if (in_word) out.argv.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      auto end = text.find('\'', i + 1);
      if (end == text.npos) return fail("unterminated ' quote");
      word.append(text.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (c == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) return fail("unterminated \" quote");
        char d = text[i];
        if (d == '"') break;
        if (d == '\\' && i + 1 < text.size()) {
          char next = text[i + 1];
          if (next == '"' || next == '\\' || next == '$' || next == '`') {
            word += next;
            i += 2;
            continue;
          }
          if (next == '\n') {
            i += 2;
            continue;
          }
        }
        word += d;
        ++i;
      }
      in_word = true;
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return fail("a backslash at the end escapes nothing");
      if (text[i + 1] != '\n') {
        word += text[i + 1];
        in_word = true;
      }
      i += 2;
    } else if (needs_shell(c)) {
      return fail(std::string("'") + c +
                  "' needs a shell, which corral does not run; quote it, or write the command "
                  "as [\"sh\", \"-c\", \"...\"]");
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) out.argv.push_back(std::move(word));
  if (out.argv.empty()) return fail("the command is empty");
  return out;
}

}  // namespace corral::config
