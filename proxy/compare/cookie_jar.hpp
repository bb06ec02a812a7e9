#pragma once
// One simulated user's cookies, as a browser keeps them for one site: set and deleted by
// Set-Cookie, sent back in one Cookie header. Paths and domains are not told apart (one site).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::compare {

// The cookies of one user.
class CookieJar {
 public:
  // Applies one Set-Cookie header value; `now_unix` decides whether an Expires lies in the past.
  void apply(std::string_view set_cookie, long long now_unix);
  // "a=1; b=2", in the order the cookies were first set; empty when there are none.
  std::string header() const;
  bool has(std::string_view name) const;
  void clear() { cookies_.clear(); }
  std::size_t size() const { return cookies_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> cookies_;
};

}  // namespace corral::compare
