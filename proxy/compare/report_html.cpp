#include "proxy/compare/report_html.hpp"

#include <fmt/format.h>

#include "proxy/compare/report_json.hpp"
#include "proxy/compare/report_table.hpp"
#include "proxy/compare/svg_chart.hpp"

namespace corral::compare {

namespace {

constexpr const char* style = R"(<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:980px;padding:12px;color:#222;line-height:1.4}
h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.15em;margin:1.4em 0 .3em;border-bottom:1px solid #ddd}h3{font-size:1em;margin:.8em 0 .2em}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9em}th,td{padding:3px 7px;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}
th:first-child,td:first-child,th:last-child,td:last-child{text-align:left}
svg.chart{width:100%;height:auto;display:block;max-width:760px}
svg .tick{font-size:11px;fill:#555}svg .axis{font-size:12px;fill:#333}svg .legend{font-size:12px;fill:#333}svg .marker{font-size:11px;font-weight:bold}
.note{color:#555;font-size:.9em}.bad{color:#b00}.good{color:#070}
</style>
)";

// The render check: every chart must have laid-out content; the result goes into the DOM
// (body data-charts="rendered/total"), where a headless browser's --dump-dom shows it.
constexpr const char* check_script = R"(<script>
(function(){var c=document.querySelectorAll('svg.chart'),ok=0;
for(var i=0;i<c.length;i++){var b=c[i].getBBox(),n=c[i].querySelectorAll('polyline,rect').length;
if(b.width>0&&b.height>0&&n>1){c[i].setAttribute('data-rendered','yes');ok++;}}
document.body.setAttribute('data-charts',ok+'/'+c.length);})();
</script>
)";

std::string marker_label(FaultKind k) {
  switch (k) {
    case FaultKind::kill_worker:
      return "K";
    case FaultKind::rolling_restart:
      return "R";
    case FaultKind::redis_restart:
      return "D";
  }
  return "?";
}

std::vector<ChartMarker> markers_of(const ModeResult& m) {
  std::vector<ChartMarker> out;
  for (const auto& f : m.faults)
    out.push_back(
        {f.at_s, marker_label(f.kind), f.kind == FaultKind::kill_worker ? "#c00" : "#a0a"});
  return out;
}

std::string summary_table(const CompareReport& r) {
  const bool sessions = r.scenario_name != "article";
  std::string o = "<div class=\"scroll\"><table><thead><tr>";
  for (const auto& h : summary_header(sessions)) o += "<th>" + html_escape(h) + "</th>";
  o += "</tr></thead><tbody>\n";
  for (const auto& m : r.modes) {
    o += "<tr>";
    const auto cells = summary_cells(m, sessions);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      // Failed requests and (with sessions) sessions lost: green at zero, red otherwise.
      std::string cls;
      if (m.skipped.empty() && (i == 6 || (sessions && i == 7)))
        cls = cells[i] == "0" ? " class=\"good\"" : " class=\"bad\"";
      o += "<td" + cls + ">" + html_escape(cells[i]) + "</td>";
    }
    o += "</tr>\n";
  }
  return o + "</tbody></table></div>\n";
}

std::string mode_section(const ModeResult& m) {
  std::string o = fmt::format("<h2 id=\"mode-{0}\">{0}</h2>\n", html_escape(m.label));
  if (!m.skipped.empty())
    return o + "<p class=\"bad\">Skipped: " + html_escape(m.skipped) + "</p>\n";
  o += fmt::format(
      "<p>{} requests in {:.1f} s ({:.0f}/s), {} logins, <b>{}</b> failed, <b>{}</b> sessions lost"
      "{}, {} answers from another worker than the session's previous one.</p>\n",
      m.load.requests, m.seconds, m.requests_per_second(), m.load.logins, m.load.failed,
      m.load.lost, m.rehomed ? fmt::format(", {} re-homed", *m.rehomed) : "", m.load.moved);
  const auto markers = markers_of(m);
  std::vector<ChartSeries> workers;
  const std::size_t slots = m.worker_requests.size();
  for (std::size_t w = 0; w < slots; ++w) {
    ChartSeries s{fmt::format("worker {}", w), palette(w), {}};
    for (const auto& second : m.worker_timeline)
      s.values.push_back(w < second.size() ? double(second[w]) : 0);
    workers.push_back(std::move(s));
  }
  if (!workers.empty()) {
    o += "<h3>Requests per worker, each second</h3>\n";
    o += line_chart(
        {"workers-" + m.label, m.label + ": requests per worker over time", "req/s", "seconds"},
        workers, markers);
  }
  std::vector<std::string> seconds;
  ChartSeries lost{"sessions lost", "#d62728", {}};
  ChartSeries failed{"failed requests", "#7f7f7f", {}};
  for (std::size_t i = 0; i < m.load.seconds.size(); ++i) {
    seconds.push_back(std::to_string(i));
    lost.values.push_back(double(m.load.seconds[i].lost));
    failed.values.push_back(double(m.load.seconds[i].failed));
  }
  if (seconds.empty()) seconds.push_back("0");
  o += "<h3>Sessions lost and failed requests, each second</h3>\n";
  o += bar_chart({"losses-" + m.label, m.label + ": sessions lost and failed requests over time",
                  "count", "seconds", true},
                 seconds, {lost, failed}, markers);
  if (!m.faults.empty()) {
    o += "<div "
         "class=\"scroll\"><table><thead><tr><th>at</th><th>fault</th><th>detail</th></tr></"
         "thead><tbody>\n";
    for (const auto& f : m.faults)
      o += fmt::format("<tr><td>{:.1f} s</td><td>{}</td><td>{}</td></tr>\n", f.at_s,
                       html_escape(std::string(to_string(f.kind))), html_escape(f.detail));
    o += "</tbody></table></div>\n";
  }
  return o;
}

}  // namespace

std::string render_report_html(const CompareReport& r) {
  std::string o =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>corral compare: " +
      html_escape(r.scenario_name) + "</title>\n" + style + "</head>\n<body>\n";
  o += "<h1>corral compare: " + html_escape(r.scenario_name) + "</h1>\n";
  o += fmt::format(
      "<p class=\"note\">{} on {} core(s){}. {} users, {:g} s per mode, {} workers.</p>\n",
      html_escape(r.started_at), r.cores,
      r.machine.empty() ? "" : " (" + html_escape(r.machine) + ")", r.scenario.users,
      double(r.scenario.duration.count()) / 1000.0, r.scenario.app.workers);
  o += summary_table(r);
  for (const auto& n : r.notes) o += "<p class=\"note\">" + html_escape(n) + "</p>\n";

  std::vector<std::string> names;
  ChartSeries lost{"sessions lost", "#d62728", {}};
  ChartSeries failed{"failed requests", "#7f7f7f", {}};
  std::vector<const ModeResult*> ran;
  for (const auto& m : r.modes) {
    if (!m.skipped.empty()) continue;
    ran.push_back(&m);
    names.push_back(m.label);
    lost.values.push_back(double(m.load.lost));
    failed.values.push_back(double(m.load.failed));
  }
  if (!ran.empty()) {
    o += "<h2>Sessions lost and failed requests by mode</h2>\n";
    o += bar_chart({"losses-by-mode", "sessions lost and failed requests by mode", "count", "mode"},
                   names, {lost, failed}, {});
    const auto& edges = latency_edges_us();
    std::vector<std::string> ranges;
    ranges.push_back("<" + format_edge(edges.front()));
    for (std::size_t i = 1; i < edges.size(); ++i) ranges.push_back(format_edge(edges[i]));
    ranges.push_back(">" + format_edge(edges.back()));
    std::vector<ChartSeries> latency;
    for (std::size_t i = 0; i < ran.size(); ++i) {
      ChartSeries s{ran[i]->label, palette(i), {}};
      const auto counts = ran[i]->load.latency.counts_between(edges);
      const double total = double(std::max<std::uint64_t>(1, ran[i]->load.latency.count()));
      for (auto c : counts) s.values.push_back(100.0 * double(c) / total);
      latency.push_back(std::move(s));
    }
    o += "<h2>Latency distribution</h2>\n<p class=\"note\">Share of each mode's requests by "
         "latency: each bar counts the requests up to its label (from the label before).</p>\n";
    o += bar_chart({"latency", "latency distribution per mode", "% of requests", "latency up to"},
                   ranges, latency, {});
  }
  for (const auto& m : r.modes) o += mode_section(m);
  o +=
      "<h2>How to read it</h2>\n<p class=\"note\">A <b>failed</b> request got no answer, a 5xx or "
      "another unexpected status. A <b>session lost</b> is a logged-in user answered as a stranger "
      "or shown a cart without items they added. <b>Re-homed</b>: sticky sessions moved to another "
      "worker because theirs was down. <b>Jain</b>: Jain's fairness index of requests per worker "
      "(1 is even). Dashed lines mark faults: K a worker killed, R a rolling restart, D Redis "
      "restarted. The figures also sit in report.json.</p>\n";
  o += check_script;
  return o + "</body></html>\n";
}

}  // namespace corral::compare
