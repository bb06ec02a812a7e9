#include "proxy/compare/answer_check.hpp"

namespace corral::compare {

namespace {

bool names(std::string_view body, std::string_view word) {
  // Quoted, so that "u1" is not found inside "u12".
  std::string quoted;
  quoted.reserve(word.size() + 2);
  quoted += '"';
  quoted += word;
  quoted += '"';
  return body.find(quoted) != std::string_view::npos;
}

Verdict base(const Answer& a) {
  if (a.status == 401) return Verdict::lost;
  if (a.status != 200) return Verdict::failed;
  return Verdict::ok;
}

}  // namespace

Verdict check_me(const Answer& a, std::string_view user) {
  Verdict v = base(a);
  if (v != Verdict::ok) return v;
  return names(a.body, user) ? Verdict::ok : Verdict::lost;
}

Verdict check_cart(const Answer& a, std::string_view user, const std::vector<std::string>& items) {
  Verdict v = check_me(a, user);
  if (v != Verdict::ok) return v;
  for (const auto& item : items)
    if (!names(a.body, item)) return Verdict::lost;
  return Verdict::ok;
}

Verdict check_login(const Answer& a) { return a.status == 200 ? Verdict::ok : Verdict::failed; }

}  // namespace corral::compare
