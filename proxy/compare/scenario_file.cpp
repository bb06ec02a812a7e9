#include "proxy/compare/scenario_file.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

namespace corral::compare {

namespace {

// Reads one file, noting each problem with the place it was found.
class Reader {
 public:
  Reader(std::string path, std::vector<std::string>& problems)
      : path_(std::move(path)), problems_(problems) {}

  void problem(const YAML::Node& at, const std::string& key, const std::string& message) {
    const auto m = at.Mark();
    if (m.line >= 0)
      problems_.push_back(
          fmt::format("{}:{}:{}: {}: {}", path_, m.line + 1, m.column + 1, key, message));
    else
      problems_.push_back(fmt::format("{}: {}: {}", path_, key, message));
  }

  void only_keys(const YAML::Node& map, const std::string& prefix, std::set<std::string> known) {
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (!known.count(key)) problem(kv.first, prefix + key, "unknown key");
    }
  }

  bool text(const YAML::Node& n, const std::string& key, std::string& out) {
    if (!n.IsScalar()) {
      problem(n, key, "expected a text");
      return false;
    }
    out = n.as<std::string>();
    return true;
  }

  void count(const YAML::Node& n, const std::string& key, std::uint32_t& out, std::uint32_t min,
             std::uint32_t max) {
    std::string t;
    if (!text(n, key, t)) return;
    try {
      std::size_t used = 0;
      const long v = std::stol(t, &used);
      if (used != t.size() || v < long(min) || v > long(max)) throw std::out_of_range("");
      out = static_cast<std::uint32_t>(v);
    } catch (const std::exception&) {
      problem(n, key, fmt::format("expected a whole number {}..{}, got '{}'", min, max, t));
    }
  }

  void duration(const YAML::Node& n, const std::string& key, Millis& out, bool zero_ok) {
    std::string t;
    if (!text(n, key, t)) return;
    auto d = parse_flag_duration(t);
    if (!d || (!zero_ok && d->count() == 0)) {
      problem(n, key, fmt::format("expected a duration such as 10s or 500ms, got '{}'", t));
      return;
    }
    out = *d;
  }

  void optional_time(const YAML::Node& n, const std::string& key, std::optional<Millis>& out) {
    Millis d{0};
    duration(n, key, d, true);
    out = d.count() ? std::optional<Millis>(d) : std::nullopt;
  }

  void request(const YAML::Node& n, const std::string& key, std::string& out) {
    std::string t;
    if (!text(n, key, t)) return;
    if (!parse_request_line(t)) {
      problem(n, key, fmt::format("expected 'METHOD /target', got '{}'", t));
      return;
    }
    out = t;
  }

 private:
  std::string path_;
  std::vector<std::string>& problems_;
};

}  // namespace

namespace {
void read_into(const YAML::Node& root, const std::string& path, Scenario& s,
               std::vector<std::string>& problems);
}  // namespace

std::vector<std::string> read_scenario_file(const std::string& path, Scenario& s) {
  std::vector<std::string> problems;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    problems.push_back(path + ": cannot read the file");
    return problems;
  } catch (const YAML::Exception& e) {
    problems.push_back(
        fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
    return problems;
  }
  if (!root.IsMap()) {
    problems.push_back(path + ": expected a map of keys (app:, requests:, users: ...)");
    return problems;
  }
  try {
    read_into(root, path, s, problems);
  } catch (const YAML::Exception& e) {
    problems.push_back(
        fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  return problems;
}

namespace {

void read_into(const YAML::Node& root, const std::string& path, Scenario& s,
               std::vector<std::string>& problems) {
  Reader r(path, problems);
  r.only_keys(root, "",
              {"app", "requests", "users", "duration", "think", "session_requests", "faults",
               "modes", "proxy_threads"});
  const auto dir = std::filesystem::absolute(path).parent_path();

  if (auto app = root["app"]) {
    r.only_keys(app, "app.",
                {"command", "cwd", "env", "workers", "cookie", "worker_header", "ready_timeout"});
    if (auto c = app["command"]) {
      s.app.command.clear();
      if (c.IsSequence()) {
        for (const auto& w : c) s.app.command.push_back(w.as<std::string>());
      } else if (c.IsScalar()) {
        // Words split at spaces; quote nothing: a list is the exact form.
        std::string t = c.as<std::string>(), word;
        for (char ch : t + " ") {
          if (ch == ' ') {
            if (!word.empty()) s.app.command.push_back(word);
            word.clear();
          } else {
            word += ch;
          }
        }
      }
      if (s.app.command.empty()) r.problem(c, "app.command", "expected a list of words");
    }
    std::string cwd = dir.string();
    if (auto c = app["cwd"]) {
      if (r.text(c, "app.cwd", cwd)) cwd = (dir / cwd).lexically_normal().string();
    }
    s.app.cwd = cwd;
    if (auto e = app["env"]) {
      if (!e.IsMap()) {
        r.problem(e, "app.env", "expected a map of names to values");
      } else {
        for (const auto& kv : e)
          s.app.env[kv.first.as<std::string>()] = kv.second.as<std::string>();
      }
    }
    if (auto w = app["workers"]) r.count(w, "app.workers", s.app.workers, 1, 64);
    if (auto c = app["cookie"]) r.text(c, "app.cookie", s.app.cookie);
    if (auto h = app["worker_header"]) r.text(h, "app.worker_header", s.app.worker_header);
    if (auto t = app["ready_timeout"])
      r.duration(t, "app.ready_timeout", s.app.ready_timeout, false);
  }
  if (auto q = root["requests"]) {
    r.only_keys(q, "requests.", {"login", "me", "cart_add", "cart", "logout"});
    if (auto n = q["login"]) r.request(n, "requests.login", s.requests.login);
    if (auto n = q["me"]) r.request(n, "requests.me", s.requests.me);
    if (auto n = q["cart_add"]) r.request(n, "requests.cart_add", s.requests.cart_add);
    if (auto n = q["cart"]) r.request(n, "requests.cart", s.requests.cart);
    if (auto n = q["logout"]) r.request(n, "requests.logout", s.requests.logout);
  }
  if (auto n = root["users"]) r.count(n, "users", s.users, 1, 100000);
  if (auto n = root["duration"]) r.duration(n, "duration", s.duration, false);
  if (auto n = root["think"]) r.duration(n, "think", s.think, true);
  if (auto n = root["session_requests"])
    r.count(n, "session_requests", s.session_requests, 1, 1000000);
  if (auto n = root["proxy_threads"]) r.count(n, "proxy_threads", s.proxy_threads, 1, 64);
  if (auto f = root["faults"]) {
    r.only_keys(f, "faults.", {"kill_every", "rolling_restart_at", "redis_restart_at"});
    if (auto n = f["kill_every"]) r.duration(n, "faults.kill_every", s.faults.kill_every, true);
    if (auto n = f["rolling_restart_at"])
      r.optional_time(n, "faults.rolling_restart_at", s.faults.rolling_restart_at);
    if (auto n = f["redis_restart_at"])
      r.optional_time(n, "faults.redis_restart_at", s.faults.redis_restart_at);
  }
  if (auto m = root["modes"]) {
    std::string joined;
    if (m.IsSequence()) {
      for (const auto& w : m) joined += w.as<std::string>() + ",";
    } else if (m.IsScalar()) {
      joined = m.as<std::string>();
    }
    auto parsed = parse_modes(joined);
    if (!parsed.error.empty()) {
      r.problem(m, "modes", parsed.error);
    } else {
      s.modes = parsed.modes;
    }
  }
}

}  // namespace

}  // namespace corral::compare
