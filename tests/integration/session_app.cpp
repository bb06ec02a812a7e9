#include "tests/integration/session_app.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

namespace corral::test {

Answer answer_of(const http::response<http::string_body>& res) {
  Answer a;
  a.status = res.result_int();
  a.body = res.body();
  for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
    if (!a.set_cookie.empty()) a.set_cookie += "\n";
    a.set_cookie += std::string(it->value());
  }
  if (res[http::field::content_type] != "application/json") return a;
  auto o = parse_json_object(res.body());
  if (auto who = o.if_contains("who"); who && who->is_object()) {
    const auto& w = who->as_object();
    a.slot = w.at("slot").to_number<int>();
    a.generation = w.at("generation").to_number<int>();
    a.pid = w.at("pid").to_number<long>();
    a.name = std::string(w.at("name").as_string());
  }
  if (auto u = o.if_contains("user"); u && u->is_string()) a.user = std::string(u->as_string());
  if (auto c = o.if_contains("cookie"); c && c->is_string())
    a.cookie_seen = std::string(c->as_string());
  return a;
}

Answer ask(HttpClient& client, const std::string& target, const std::string& cookie) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!cookie.empty()) headers.emplace_back("Cookie", cookie);
  return answer_of(client.get(target, headers));
}

std::string cookie_pair(const std::string& set_cookies, const std::string& name) {
  std::istringstream lines(set_cookies);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + "=", 0) == 0) return line.substr(0, line.find(';'));
  }
  return {};
}

User log_in(HttpClient& client, const std::string& name) {
  Answer a = ask(client, "/login?user=" + name);
  EXPECT_EQ(a.status, 200) << a.body;
  User u{cookie_pair(a.set_cookie, "connect.sid"), a.slot, a.name};
  EXPECT_FALSE(u.cookie.empty()) << a.set_cookie;
  return u;
}

Apps::Apps(int n) {
  for (int i = 0; i < n; ++i) {
    apps_.push_back(std::make_unique<Process>(
        std::vector<std::string>{"node", std::string(CORRAL_TEST_DATA) + "/session_app.js"},
        std::vector<std::pair<std::string, std::string>>{{"PORT", "0"},
                                                         {"NAME", "app" + std::to_string(i)}}));
    auto m = apps_.back()->wait_for_line(std::regex(R"(listening (\d+))"), 10s);
    ports_.push_back(static_cast<std::uint16_t>(std::stoi(m.at(1))));
  }
}

void Apps::add_to(CorralConfig& c) const {
  for (auto p : ports_) c.add("127.0.0.1:" + std::to_string(p));
}

void Apps::kill(int i) {
  auto& app = *apps_.at(static_cast<std::size_t>(i));
  app.kill();
  if (!app.wait_exit(5s)) throw HarnessError("session_app " + std::to_string(i) + " did not exit");
}

}  // namespace corral::test
