#include "proxy/compare/report_table.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "proxy/compare/fairness.hpp"

namespace corral::compare {

std::vector<std::string> summary_header(bool sessions) {
  if (!sessions)
    return {"mode",   "req/s",    "p50 ms",  "p90 ms",    "p99 ms",      "max ms",
            "failed", "requests", "retried", "proxy CPU", "worker share"};
  return {"mode",          "req/s",    "p50 ms", "p90 ms",    "p99 ms",    "max ms",      "failed",
          "sessions lost", "re-homed", "Jain",   "redis/req", "proxy CPU", "worker share"};
}

std::string format_shares(const std::vector<std::uint64_t>& worker_requests) {
  std::string out;
  for (double s : shares(worker_requests)) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{:.0f}%", s * 100);
  }
  return out;
}

namespace {

std::string ms(std::uint64_t us) {
  const double v = double(us) / 1000.0;
  return v < 10 ? fmt::format("{:.2f}", v) : fmt::format("{:.0f}", v);
}

}  // namespace

std::vector<std::string> summary_cells(const ModeResult& m, bool sessions) {
  if (!m.skipped.empty()) return {m.label, "skipped"};
  const auto& h = m.load.latency;
  std::vector<std::string> cells{m.label,
                                 fmt::format("{:.0f}", m.requests_per_second()),
                                 ms(h.percentile(0.50)),
                                 ms(h.percentile(0.90)),
                                 ms(h.percentile(0.99)),
                                 ms(h.max()),
                                 fmt::format("{}", m.load.failed)};
  if (!sessions) {
    cells.insert(cells.end(), {fmt::format("{}", m.load.requests),
                               fmt::format("{}", m.masked_failures),
                               fmt::format("{:.0f}%", m.proxy_cpu_percent),
                               format_shares(m.worker_requests)});
    return cells;
  }
  cells.insert(cells.end(), {fmt::format("{}", m.load.lost),
                             m.rehomed ? fmt::format("{}", *m.rehomed) : std::string("-"),
                             fmt::format("{:.3f}", jain_index(m.worker_requests)),
                             fmt::format("{:.2f}", m.redis_per_request),
                             fmt::format("{:.0f}%", m.proxy_cpu_percent),
                             format_shares(m.worker_requests)});
  return cells;
}

std::string render_terminal_table(const CompareReport& r) {
  const bool sessions = r.scenario_name != "article";
  std::vector<std::vector<std::string>> rows{summary_header(sessions)};
  for (const auto& m : r.modes) rows.push_back(summary_cells(m, sessions));
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (std::size_t r_i = 0; r_i < rows.size(); ++r_i) {
    const auto& row = rows[r_i];
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      // Text columns to the left, figures to the right.
      const bool left = i == 0 || i + 1 == width.size() || row[i] == "skipped";
      line +=
          left ? fmt::format("{:<{}}", row[i], width[i]) : fmt::format("{:>{}}", row[i], width[i]);
      if (i + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r_i == 0) {
      std::size_t total = 0;
      for (auto w : width) total += w + 2;
      out += std::string(total - 2, '-') + "\n";
    }
  }
  for (const auto& m : r.modes)
    if (!m.skipped.empty()) out += m.label + ": " + m.skipped + "\n";
  for (const auto& n : r.notes) out += n + "\n";
  return out;
}

}  // namespace corral::compare
