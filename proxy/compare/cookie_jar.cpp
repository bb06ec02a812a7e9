#include "proxy/compare/cookie_jar.hpp"

#include <algorithm>

#include "session/cookie.hpp"

namespace corral::compare {

void CookieJar::apply(std::string_view set_cookie, long long now_unix) {
  auto parsed = session::parse_set_cookie(set_cookie, now_unix);
  if (!parsed || parsed->name.empty()) return;
  auto it = std::find_if(cookies_.begin(), cookies_.end(),
                         [&](const auto& c) { return c.first == parsed->name; });
  if (parsed->deletes) {
    if (it != cookies_.end()) cookies_.erase(it);
    return;
  }
  if (it != cookies_.end()) {
    it->second.assign(parsed->value);
  } else {
    cookies_.emplace_back(std::string(parsed->name), std::string(parsed->value));
  }
}

std::string CookieJar::header() const {
  std::string out;
  for (const auto& [name, value] : cookies_) {
    if (!out.empty()) out += "; ";
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

bool CookieJar::has(std::string_view name) const {
  return std::any_of(cookies_.begin(), cookies_.end(),
                     [&](const auto& c) { return c.first == name; });
}

}  // namespace corral::compare
