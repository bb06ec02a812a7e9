#include "proxy/compare/scenario.hpp"

#include "config/units.hpp"

namespace corral::compare {

std::string_view to_string(Mode m) {
  switch (m) {
    case Mode::sticky_learn:
      return "sticky-learn";
    case Mode::sticky_insert:
      return "sticky-insert";
    case Mode::shared:
      return "shared";
    case Mode::round_robin:
      return "round-robin";
  }
  return "?";
}

std::optional<Mode> parse_mode(std::string_view text) {
  for (Mode m : all_modes())
    if (to_string(m) == text) return m;
  return std::nullopt;
}

std::vector<Mode> all_modes() {
  return {Mode::sticky_learn, Mode::sticky_insert, Mode::shared, Mode::round_robin};
}

ParsedModes parse_modes(std::string_view text) {
  ParsedModes r;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto word = text.substr(0, comma);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (!word.empty()) {
      auto m = parse_mode(word);
      if (!m) {
        r.error = "unknown mode '" + std::string(word) +
                  "' (sticky-learn, sticky-insert, shared, round-robin)";
        r.modes.clear();
        return r;
      }
      bool seen = false;
      for (Mode have : r.modes) seen = seen || have == *m;
      if (!seen) r.modes.push_back(*m);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (r.modes.empty()) r.error = "no mode given";
  return r;
}

std::optional<RequestLine> parse_request_line(std::string_view text) {
  auto space = text.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  RequestLine r{std::string(text.substr(0, space)), std::string(text.substr(space + 1))};
  while (!r.target.empty() && r.target.front() == ' ') r.target.erase(0, 1);
  if (r.target.empty() || r.target.front() != '/') return std::nullopt;
  for (char c : r.method)
    if (c < 'A' || c > 'Z') return std::nullopt;
  return r;
}

std::string substitute(std::string_view text, std::string_view user, std::string_view item) {
  std::string out;
  out.reserve(text.size() + 16);
  while (!text.empty()) {
    if (text.starts_with("{user}")) {
      out += user;
      text.remove_prefix(6);
    } else if (text.starts_with("{item}")) {
      out += item;
      text.remove_prefix(6);
    } else {
      out += text.front();
      text.remove_prefix(1);
    }
  }
  return out;
}

std::optional<Millis> parse_flag_duration(std::string_view text) {
  if (text == "off" || text == "0" || text == "none") return Millis{0};
  auto d = config::parse_duration(text);
  if (!d) return std::nullopt;
  return Millis{d->count()};
}

}  // namespace corral::compare
