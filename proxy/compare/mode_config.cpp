#include "proxy/compare/mode_config.hpp"

#include <fmt/format.h>

namespace corral::compare {

std::string yaml_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string yaml_flow_list(const std::vector<std::string>& words) {
  std::string out = "[";
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += ", ";
    out += yaml_quote(words[i]);
  }
  return out + "]";
}

std::string render_mode_config(const Scenario& s, const ModeConfigInputs& in) {
  std::string y = fmt::format(
      "# corral compare: mode {}\n"
      "listen: 127.0.0.1:0\n"
      "admin: 127.0.0.1:0\n"
      "threads: {}\n"
      "access_log: off\n"
      "retries: 2\n"
      "workers:\n"
      "  command: {}\n"
      "  count: {}\n"
      "  cwd: {}\n",
      to_string(in.mode), s.proxy_threads, in.app_command_yaml, s.app.workers, yaml_quote(in.cwd));
  if (!s.app.env.empty()) {
    y += "  env:\n";
    for (const auto& [k, v] : s.app.env) y += fmt::format("    {}: {}\n", k, yaml_quote(v));
  }
  y += fmt::format(
      "  ready: {{ when: port, timeout: {}ms }}\n"
      "  stop: {{ timeout: 3s }}\n"
      "  restart: {{ backoff: 100ms, max_backoff: 1s, reset_after: 2s, crash_loop: 50 }}\n"
      "timeouts: {{ connect: 2s, upstream_response: 20s, drain: 5s }}\n",
      s.app.ready_timeout.count());
  switch (in.mode) {
    case Mode::sticky_learn:
      y += fmt::format(
          "balance: sticky\n"
          "sticky: {{ cookie: {}, mode: learn, fallback: least_loaded, on_unavailable: failover "
          "}}\n",
          s.app.cookie);
      break;
    case Mode::sticky_insert:
      y += fmt::format(
          "balance: sticky\n"
          "sticky: {{ mode: insert, key: {}, fallback: least_loaded, on_unavailable: failover }}\n",
          yaml_quote(in.insert_key));
      break;
    case Mode::shared:
      y += fmt::format(
          "balance: least_loaded\n"
          "sessions: {{ store: redis, redis: {}, on_store_down: fail_closed }}\n",
          yaml_quote(in.redis_url));
      break;
    case Mode::round_robin:
      y += "balance: round_robin\n";
      break;
  }
  return y;
}

}  // namespace corral::compare
