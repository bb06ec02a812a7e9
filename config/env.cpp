#include "config/env.hpp"

#include <cstdlib>

namespace corral::config {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool is_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  for (char c : name) {
    if (!is_name_start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

EnvSubstitution substitute_env(std::string_view text, const EnvLookup& lookup) {
  EnvSubstitution result;
  while (!text.empty()) {
    auto dollar = text.find('$');
    result.text += text.substr(0, dollar);
    if (dollar == text.npos) break;
    text.remove_prefix(dollar);
    if (text.starts_with("$${")) {
      result.text += "${";
      text.remove_prefix(3);
      continue;
    }
    if (!text.starts_with("${")) {
      result.text += '$';
      text.remove_prefix(1);
      continue;
    }
    auto close = text.find('}');
    if (close == text.npos) {
      return {{}, "unterminated '${' (write $${ for a literal '${')"};
    }
    std::string_view inside = text.substr(2, close - 2);
    text.remove_prefix(close + 1);

    std::string_view name = inside;
    std::optional<std::string_view> fallback;
    if (auto separator = inside.find(":-"); separator != inside.npos) {
      name = inside.substr(0, separator);
      fallback = inside.substr(separator + 2);
    }
    if (!is_name(name)) {
      return {{}, "'${" + std::string(inside) + "}' is not a variable name"};
    }
    std::optional<std::string> value = lookup(name);
    if (fallback && (!value || value->empty())) {
      result.text += *fallback;
    } else if (value) {
      result.text += *value;
    } else {
      return {{},
              "environment variable '" + std::string(name) + "' is not set (write ${" +
                  std::string(name) + ":-default} to give a default)"};
    }
  }
  return result;
}

EnvSubstitution substitute_env(std::string_view text) {
  return substitute_env(text, [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace corral::config
