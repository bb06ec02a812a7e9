#include "session/cookie.hpp"

#include <cstddef>
#include <cstdint>

namespace corral::session {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A cookie value may be sent as a quoted-string (RFC 6265 §4.1.1); the affinity key is the
// text inside, so `a="x"` and `a=x` pin to the same slot.
std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

// Splits `s` at the first `sep`: returns the part before and leaves the rest in `s`.
std::string_view next_part(std::string_view& s, char sep) {
  const auto at = s.find(sep);
  const auto part = s.substr(0, at);
  s = at == std::string_view::npos ? std::string_view{} : s.substr(at + 1);
  return part;
}

// RFC 6265 §5.1.1 delimiter: the characters that separate date tokens.
bool is_date_delimiter(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
         (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

// Reads 1..max_digits digits at the start of `s` that are not followed by another digit.
std::optional<int> leading_number(std::string_view s, std::size_t min_digits, std::size_t max_digits,
                                  std::size_t* used = nullptr) {
  std::size_t n = 0;
  int value = 0;
  while (n < s.size() && is_digit(s[n])) {
    if (n == max_digits) return std::nullopt;
    value = value * 10 + (s[n] - '0');
    ++n;
  }
  if (n < min_digits) return std::nullopt;
  if (used) *used = n;
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// The cookie-date algorithm of RFC 6265 §5.1.1: reads IMF-fixdate
// ("Thu, 01 Jan 1970 00:00:00 GMT") and the older forms servers still send
// ("Thursday, 01-Jan-70 00:00:00 GMT", asctime), as browsers do. Seconds since the epoch.
std::optional<long long> parse_cookie_date(std::string_view s) {
  static constexpr std::string_view months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                "jul", "aug", "sep", "oct", "nov", "dec"};
  int hour = -1, minute = -1, second = -1, day = -1, month = -1, year = -1;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_date_delimiter(static_cast<unsigned char>(s[i]))) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_date_delimiter(static_cast<unsigned char>(s[i]))) ++i;
    const auto token = s.substr(start, i - start);
    if (token.empty()) continue;

    if (hour < 0) {
      // time = hms-time ( non-digit *OCTET ); hms-time = 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT
      std::size_t a = 0, b = 0, c = 0;
      const auto h = leading_number(token, 1, 2, &a);
      if (h && a < token.size() && token[a] == ':') {
        const auto m = leading_number(token.substr(a + 1), 1, 2, &b);
        if (m && a + 1 + b < token.size() && token[a + 1 + b] == ':') {
          const auto sec = leading_number(token.substr(a + 2 + b), 1, 2, &c);
          if (sec) {
            hour = *h;
            minute = *m;
            second = *sec;
            continue;
          }
        }
      }
    }
    if (day < 0) {
      if (const auto d = leading_number(token, 1, 2)) {
        day = *d;
        continue;
      }
    }
    if (month < 0 && token.size() >= 3) {
      bool found = false;
      for (int k = 0; k < 12; ++k) {
        if (ascii_iequals(token.substr(0, 3), months[k])) {
          month = k + 1;
          found = true;
          break;
        }
      }
      if (found) continue;
    }
    if (year < 0) {
      if (const auto y = leading_number(token, 2, 4)) {
        year = *y;
        continue;
      }
    }
  }

  if (hour < 0 || day < 0 || month < 0 || year < 0) return std::nullopt;
  if (year >= 70 && year <= 99) year += 1900;
  if (year >= 0 && year <= 69) year += 2000;
  if (year < 1601 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int last_day = month_days[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
  if (day < 1 || day > last_day) return std::nullopt;
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
             86400LL +
         hour * 3600LL + minute * 60LL + second;
}

// Max-Age per RFC 6265 §5.2.2: an optional '-' then digits, else the attribute is ignored.
// Saturates instead of overflowing: only the sign matters here.
std::optional<long long> parse_max_age(std::string_view v) {
  bool negative = false;
  if (!v.empty() && v.front() == '-') {
    negative = true;
    v.remove_prefix(1);
  }
  if (v.empty()) return std::nullopt;
  long long n = 0;
  for (char c : v) {
    if (!is_digit(c)) return std::nullopt;
    if (n < 1'000'000'000'000LL) n = n * 10 + (c - '0');
  }
  return negative ? -n : n;
}

}  // namespace

std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name) {
  if (name.empty()) return std::nullopt;
  while (!cookie_header.empty()) {
    auto pair = next_part(cookie_header, ';');
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(pair.substr(0, eq)) == name) return unquote(trim(pair.substr(eq + 1)));
  }
  return std::nullopt;
}

std::optional<SetCookie> parse_set_cookie(std::string_view set_cookie_header, long long now_unix) {
  // RFC 6265 §5.2: a name-value-pair without '=' or with an empty name voids the whole line.
  auto attributes = set_cookie_header;
  const auto pair = next_part(attributes, ';');
  const auto eq = pair.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  SetCookie cookie;
  cookie.name = trim(pair.substr(0, eq));
  if (cookie.name.empty()) return std::nullopt;
  cookie.value = unquote(trim(pair.substr(eq + 1)));

  // The last valid Max-Age and Expires count, and Max-Age wins over Expires (§5.3 step 3).
  std::optional<long long> max_age;
  std::optional<long long> expires;
  while (!attributes.empty()) {
    auto av = next_part(attributes, ';');
    const auto av_eq = av.find('=');
    const auto key = trim(av.substr(0, av_eq));
    const auto value = av_eq == std::string_view::npos ? std::string_view{} : trim(av.substr(av_eq + 1));
    if (ascii_iequals(key, "max-age")) {
      if (const auto n = parse_max_age(value)) max_age = n;
    } else if (ascii_iequals(key, "expires")) {
      if (const auto t = parse_cookie_date(value)) expires = t;
    }
  }
  // An expiry equal to now is already expired: browsers evict when expiry <= now.
  if (max_age)
    cookie.deletes = *max_age <= 0;
  else if (expires)
    cookie.deletes = *expires <= now_unix;
  return cookie;
}

}  // namespace corral::session
