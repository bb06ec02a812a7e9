#pragma once
// What one answer says about the user's session: served, failed (the request did not get a
// proper answer), or lost (the server answered, but as to a stranger, or with a cart that lost
// items). Pure, so each verdict is unit-tested.
#include <string>
#include <string_view>
#include <vector>

namespace corral::compare {

enum class Verdict { ok, failed, lost };

// An answer: status 0 when the request got none (connect error, reset, timeout).
struct Answer {
  unsigned status = 0;
  std::string_view body;
};

// A 5xx, no answer, or any status other than 200 and 401: failed. 401: lost.
// `user` must appear in the body as a JSON string ("ann"), else lost.
Verdict check_me(const Answer& a, std::string_view user);
// As check_me, and every item in `items` appears as a JSON string, else lost.
Verdict check_cart(const Answer& a, std::string_view user, const std::vector<std::string>& items);
// A login: 200 is ok; anything else failed.
Verdict check_login(const Answer& a);

}  // namespace corral::compare
