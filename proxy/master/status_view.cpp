#include "proxy/master/status_view.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace corral::master {

namespace json = boost::json;

std::string format_uptime(std::uint64_t ms) {
  std::uint64_t s = ms / 1000;
  auto two = [](std::uint64_t big, const char* big_unit, std::uint64_t small, const char* unit) {
    std::string text = std::to_string(big) + big_unit;
    if (small) text += " " + std::to_string(small) + unit;
    return text;
  };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", s % 3600 / 60, "m");
  return two(s / 86400, "d", s % 86400 / 3600, "h");
}

std::string format_bytes(std::uint64_t bytes) {
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

namespace {

std::uint64_t number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64()) return v->as_int64() < 0 ? 0 : static_cast<std::uint64_t>(v->as_int64());
  if (v->is_double()) return v->as_double() < 0 ? 0 : static_cast<std::uint64_t>(v->as_double());
  return 0;
}

double real(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  return 0;
}

std::string text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string percent(double value) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1f%%", value);
  return out;
}

// Columns padded to their widest cell.
std::string render_rows(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string render_status_table(const json::object& status) {
  std::string out;
  if (const json::object* master = object_at(status, "master")) {
    out += "master  pid " + std::to_string(number(*master, "pid")) + ", up " +
           format_uptime(number(*master, "uptime_ms")) + ", config " + text(*master, "config") +
           "\n";
    std::string operation = text(*master, "operation");
    if (!operation.empty()) out += "        " + operation + "\n";
  }
  if (const json::object* proxy = object_at(status, "proxy")) {
    if (number(*proxy, "pid") == 0) {
      out += "proxy   not running (" + text(*proxy, "state") + ")\n";
    } else {
      out += "proxy   pid " + std::to_string(number(*proxy, "pid")) + ", generation " +
             std::to_string(number(*proxy, "generation")) + ", " + text(*proxy, "state") + ", up " +
             format_uptime(number(*proxy, "uptime_ms")) + ", cpu " +
             percent(real(*proxy, "cpu_percent")) + ", mem " +
             format_bytes(number(*proxy, "rss_bytes")) +
             (proxy->contains("queued") ? ", queued " + std::to_string(number(*proxy, "queued"))
                                        : std::string()) +
             "\n";
    }
  }
  const json::value* slots = status.if_contains("slots");
  if (!slots || !slots->is_array() || slots->as_array().empty()) {
    out += "no worker slots (this config fronts upstreams)\n";
    return out;
  }
  // Sticky learn mode reports the sessions pinned to each slot: a column only then.
  bool sessions = false;
  bool limits = false;
  for (const json::value& entry : slots->as_array()) {
    sessions = sessions || (entry.is_object() && entry.as_object().contains("sessions"));
    limits = limits || (entry.is_object() && entry.as_object().contains("limit"));
  }
  std::vector<std::vector<std::string>> rows = {
      {"slot", "pid", "state", "gen", "uptime", "restarts", "cpu", "mem", "in-flight", "requests"}};
  if (limits) rows.front().insert(rows.front().begin() + 9, "limit");
  if (sessions) rows.front().push_back("sessions");
  for (const json::value& entry : slots->as_array()) {
    if (!entry.is_object()) continue;
    const json::object& s = entry.as_object();
    const bool running = number(s, "pid") != 0;
    rows.push_back(
        {std::to_string(number(s, "slot")), running ? std::to_string(number(s, "pid")) : "-",
         text(s, "state"), std::to_string(number(s, "generation")),
         running ? format_uptime(number(s, "uptime_ms")) : "-",
         std::to_string(number(s, "restarts")), running ? percent(real(s, "cpu_percent")) : "-",
         running ? format_bytes(number(s, "rss_bytes")) : "-",
         std::to_string(number(s, "in_flight")), std::to_string(number(s, "requests"))});
    if (limits) rows.back().insert(rows.back().begin() + 9, std::to_string(number(s, "limit")));
    if (sessions) rows.back().push_back(std::to_string(number(s, "sessions")));
  }
  out += render_rows(rows);
  for (const json::value& entry : slots->as_array()) {
    if (!entry.is_object()) continue;
    const json::object& s = entry.as_object();
    std::string last_exit = text(s, "last_exit");
    if (text(s, "state") == "errored" || text(s, "state") == "stopped") {
      out += "slot " + std::to_string(number(s, "slot")) + ": " + text(s, "state") +
             (last_exit.empty() ? "" : ", last exit: " + last_exit) + ", " +
             std::to_string(number(s, "crashes_in_a_row")) + " failure(s) in a row\n";
    }
  }
  return out;
}

}  // namespace corral::master
