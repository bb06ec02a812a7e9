#pragma once
// Talking to data/session_app.js, an app that keeps its login sessions in process memory as
// Express with express-session's default MemoryStore does (same cookie name, format and
// logout): its answers, logging a user in, and instances of it as static upstreams.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.hpp"

namespace corral::test {

// One answer of session_app.js.
struct Answer {
  int status = 0;
  int slot = -1;
  int generation = 0;
  long pid = 0;
  std::string name;
  std::string user;         // logged-in user, empty when not logged in
  std::string cookie_seen;  // the Cookie header the app received (GET /)
  std::string set_cookie;   // the response's Set-Cookie values, joined by '\n'
  std::string body;
};

Answer answer_of(const http::response<http::string_body>& res);
Answer ask(HttpClient& client, const std::string& target, const std::string& cookie = {});

// "name=value" of the Set-Cookie naming `name` ("" when there is none).
std::string cookie_pair(const std::string& set_cookies, const std::string& name);

// A user who logged in: the session cookie to send and the slot that holds the session.
struct User {
  std::string cookie;
  int slot = -1;
  std::string name;  // of the app instance that holds it
};
// GET /login?user=NAME; a failed login fails the running test.
User log_in(HttpClient& client, const std::string& name);

// session_app.js instances as static upstreams, named app0, app1, ...
class Apps {
 public:
  explicit Apps(int n);
  void add_to(CorralConfig& c) const;
  // Kills instance `i` (SIGKILL) and waits for it to be gone.
  void kill(int i);

 private:
  std::vector<std::unique_ptr<Process>> apps_;
  std::vector<std::uint16_t> ports_;
};

}  // namespace corral::test
