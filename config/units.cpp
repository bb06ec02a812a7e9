#include "config/units.hpp"

#include <charconv>
#include <limits>

namespace corral::config {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Consumes the leading digits of `text`; false when there are none or they overflow.
bool take_number(std::string_view& text, std::uint64_t& value) {
  const char* end = text.data() + text.size();
  auto [next, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || next == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(next - text.data()));
  return true;
}

// value * scale, or nothing on overflow.
std::optional<std::uint64_t> scaled(std::uint64_t value, std::uint64_t scale) {
  if (value > std::numeric_limits<std::uint64_t>::max() / scale) return std::nullopt;
  return value * scale;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  // A duration unit; a lower rank is a larger unit, which must come first.
  struct Unit {
    std::string_view suffix;
    int rank;
    std::uint64_t milliseconds;
  };
  // "ms" before "m" so the longer suffix wins.
  static constexpr Unit units[] = {
      {"h", 0, 3'600'000}, {"ms", 3, 1}, {"m", 1, 60'000}, {"s", 2, 1'000}};

  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  int last_rank = -1;
  while (!text.empty()) {
    std::uint64_t count = 0;
    if (!take_number(text, count)) return std::nullopt;
    const Unit* unit = nullptr;
    for (const Unit& candidate : units) {
      if (text.starts_with(candidate.suffix)) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr || unit->rank <= last_rank) return std::nullopt;
    text.remove_prefix(unit->suffix.size());
    last_rank = unit->rank;
    auto part = scaled(count, unit->milliseconds);
    if (!part || *part > std::numeric_limits<std::uint64_t>::max() - total) return std::nullopt;
    total += *part;
  }
  if (total > static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max())) {
    return std::nullopt;
  }
  return Duration(static_cast<Duration::rep>(total));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  // A size suffix and the bytes it stands for.
  struct Unit {
    std::string_view suffix;
    std::uint64_t bytes;
  };
  static constexpr Unit units[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"KB", 1'000},
      {"MB", 1'000'000},
      {"GB", 1'000'000'000},
  };

  text = trim(text);
  std::uint64_t count = 0;
  if (!take_number(text, count)) return std::nullopt;
  text = trim(text);
  for (const Unit& unit : units) {
    if (text == unit.suffix) return scaled(count, unit.bytes);
  }
  return std::nullopt;
}

}  // namespace corral::config
