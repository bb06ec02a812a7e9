#include "proxy/compare/report_markdown.hpp"

#include <fmt/format.h>

#include "proxy/compare/report_table.hpp"

namespace corral::compare {

namespace {

std::string row(const std::vector<std::string>& cells, std::size_t columns) {
  std::string out = "|";
  for (std::size_t i = 0; i < columns; ++i) out += " " + (i < cells.size() ? cells[i] : "") + " |";
  return out + "\n";
}

std::string optional_s(const std::optional<Millis>& t) {
  return t ? fmt::format("{:g} s", double(t->count()) / 1000.0) : std::string("none");
}

}  // namespace

std::string render_report_markdown(const CompareReport& r) {
  const Scenario& s = r.scenario;
  std::string out = fmt::format("# corral compare: {}\n\n", r.scenario_name);
  out += fmt::format("Run {} on {} core(s){}.\n\n", r.started_at, r.cores,
                     r.machine.empty() ? "" : " (" + r.machine + ")");
  if (r.scenario_name == "sessions") {
    out += fmt::format(
        "{} simulated users, {} s of load per mode, think time {} ms (mean), {} workers, "
        "{} proxy thread(s). Faults: a worker killed every {}, a rolling restart at {}, "
        "Redis restarted at {} (shared mode).\n\n",
        s.users, double(s.duration.count()) / 1000.0, s.think.count(), s.app.workers,
        s.proxy_threads,
        s.faults.kill_every.count() ? optional_s(s.faults.kill_every) : std::string("(never)"),
        optional_s(s.faults.rolling_restart_at), optional_s(s.faults.redis_restart_at));
  }
  const bool sessions = r.scenario_name != "article";
  const auto header = summary_header(sessions);
  out += row(header, header.size());
  out += "|";
  for (std::size_t i = 0; i < header.size(); ++i)
    out += i == 0 || i + 1 == header.size() ? "---|" : "---:|";
  out += "\n";
  for (const auto& m : r.modes) out += row(summary_cells(m, sessions), header.size());
  out += "\n";
  for (const auto& n : r.notes) out += "- " + n + "\n";
  if (!r.notes.empty()) out += "\n";

  out +=
      "How to read it: **failed** requests got no answer, a 5xx or another unexpected status. "
      "A **session lost** is a logged-in user answered as a stranger (401, or another user's "
      "name) or shown a cart without items they added; the user then logs in again. "
      "**Re-homed** sessions (sticky modes) were moved to another worker because theirs was down. "
      "**Jain** is Jain's fairness index of the requests per worker (1: even). **redis/req** is "
      "Redis round trips per proxied request, **proxy CPU** the proxy process's CPU (100% = one "
      "core).\n\n";

  for (const auto& m : r.modes) {
    out += fmt::format("## {}\n\n", m.label);
    if (!m.skipped.empty()) {
      out += "Skipped: " + m.skipped + "\n\n";
      continue;
    }
    out += fmt::format(
        "{} requests in {:.1f} s, {} logins, {} failed, {} sessions lost, {} masked failures "
        "(requests corral retried on another worker), {} answers to a logged-in user from another "
        "worker than the one before.\n\n",
        m.load.requests, m.seconds, m.load.logins, m.load.failed, m.load.lost, m.masked_failures,
        m.load.moved);
    if (!m.faults.empty()) {
      out += "| at | fault | detail |\n|---:|---|---|\n";
      for (const auto& f : m.faults)
        out += fmt::format("| {:.1f} s | {} | {} |\n", f.at_s, to_string(f.kind), f.detail);
      out += "\n";
    }
    if (!m.load.examples.empty()) {
      out += "First failures and losses:\n\n```\n";
      for (const auto& e : m.load.examples) out += e + "\n";
      out += "```\n\n";
    }
  }
  return out;
}

}  // namespace corral::compare
