#include "proxy/compare/report_json.hpp"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "proxy/compare/fairness.hpp"

namespace corral::compare {

namespace json = boost::json;

const std::vector<std::uint64_t>& latency_edges_us() {
  static const std::vector<std::uint64_t> edges{250,    500,     1000,    2000,   5000,
                                                10000,  20000,   50000,   100000, 200000,
                                                500000, 1000000, 2000000, 5000000};
  return edges;
}

std::string format_edge(std::uint64_t us) {
  if (us >= 1000000) return fmt::format("{:g} s", double(us) / 1e6);
  return fmt::format("{:g} ms", double(us) / 1e3);
}

namespace {

double ms(std::uint64_t us) { return std::round(double(us) / 10.0) / 100.0; }
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

json::array u64_array(const std::vector<std::uint64_t>& v) {
  json::array a;
  for (auto x : v) a.push_back(x);
  return a;
}

// Pretty printing: Boost.JSON writes one line; reports are read by people too.
void pretty(std::string& out, const json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& kv : o) {
      if (!first) out += ",\n";
      first = false;
      out += pad + "  " + json::serialize(json::value(kv.key())) + ": ";
      pretty(out, kv.value(), indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    bool flat = true;
    for (const auto& e : a) flat = flat && !e.is_object() && !e.is_array();
    if (flat) {
      out += json::serialize(v);
      return;
    }
    out += "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i) out += ",\n";
      out += pad + "  ";
      pretty(out, a[i], indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

json::object mode_to_json(const ModeResult& m) {
  json::object o;
  o["mode"] = m.label;
  if (!m.skipped.empty()) {
    o["skipped"] = m.skipped;
    return o;
  }
  o["seconds"] = round3(m.seconds);
  o["requests"] = m.load.requests;
  o["requests_per_second"] = std::round(m.requests_per_second() * 10) / 10;
  o["latency_ms"] = json::object{{"p50", ms(m.load.latency.percentile(0.50))},
                                 {"p90", ms(m.load.latency.percentile(0.90))},
                                 {"p99", ms(m.load.latency.percentile(0.99))},
                                 {"max", ms(m.load.latency.max())},
                                 {"mean", ms(static_cast<std::uint64_t>(m.load.latency.mean()))}};
  o["failed_requests"] = m.load.failed;
  o["sessions_lost"] = m.load.lost;
  o["logins"] = m.load.logins;
  o["moved_requests"] = m.load.moved;
  if (m.rehomed) {
    o["rehomed_sessions"] = *m.rehomed;
  } else {
    o["rehomed_sessions"] = nullptr;
  }
  o["masked_failures"] = m.masked_failures;
  o["worker_requests"] = u64_array(m.worker_requests);
  json::array share;
  for (double s : shares(m.worker_requests)) share.push_back(round3(s));
  o["worker_share"] = std::move(share);
  o["jain_index"] = round3(jain_index(m.worker_requests));
  o["redis_round_trips_per_request"] = round3(m.redis_per_request);
  o["proxy_cpu_percent"] = std::round(m.proxy_cpu_percent * 10) / 10;

  json::array buckets;
  const auto& edges = latency_edges_us();
  const auto counts = m.load.latency.counts_between(edges);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    json::object b{{"count", counts[i]}};
    if (i < edges.size()) {
      b["below_ms"] = double(edges[i]) / 1000.0;
    } else {
      b["below_ms"] = nullptr;
    }
    buckets.push_back(std::move(b));
  }
  o["latency_histogram"] = std::move(buckets);

  json::array timeline;
  const std::size_t n = std::max(m.load.seconds.size(), m.worker_timeline.size());
  for (std::size_t i = 0; i < n; ++i) {
    SecondStats s = i < m.load.seconds.size() ? m.load.seconds[i] : SecondStats{};
    json::object t{{"second", i}, {"requests", s.requests}, {"failed", s.failed}, {"lost", s.lost}};
    t["per_worker"] =
        i < m.worker_timeline.size() ? u64_array(m.worker_timeline[i]) : json::array{};
    timeline.push_back(std::move(t));
  }
  o["timeline"] = std::move(timeline);

  json::array faults;
  for (const auto& f : m.faults)
    faults.push_back(json::object{
        {"at_s", round3(f.at_s)}, {"kind", std::string(to_string(f.kind))}, {"detail", f.detail}});
  o["faults"] = std::move(faults);
  json::array examples;
  for (const auto& e : m.load.examples) examples.push_back(json::string(e));
  o["examples"] = std::move(examples);
  return o;
}

json::object report_to_json(const CompareReport& r) {
  const Scenario& s = r.scenario;
  json::object scenario{{"name", r.scenario_name},
                        {"users", s.users},
                        {"duration_s", double(s.duration.count()) / 1000.0},
                        {"think_ms", s.think.count()},
                        {"workers", s.app.workers},
                        {"proxy_threads", s.proxy_threads},
                        {"kill_every_s", double(s.faults.kill_every.count()) / 1000.0}};
  if (s.faults.rolling_restart_at) {
    scenario["rolling_restart_at_s"] = double(s.faults.rolling_restart_at->count()) / 1000.0;
  } else {
    scenario["rolling_restart_at_s"] = nullptr;
  }
  if (s.faults.redis_restart_at) {
    scenario["redis_restart_at_s"] = double(s.faults.redis_restart_at->count()) / 1000.0;
  } else {
    scenario["redis_restart_at_s"] = nullptr;
  }
  json::array command;
  for (const auto& w : s.app.command) command.push_back(json::string(w));
  scenario["app_command"] = std::move(command);

  json::array modes;
  for (const auto& m : r.modes) modes.push_back(mode_to_json(m));
  json::array notes;
  for (const auto& n : r.notes) notes.push_back(json::string(n));
  return json::object{{"corral_compare", 1},
                      {"started_at", r.started_at},
                      {"machine", json::object{{"cores", r.cores}, {"cpu", r.machine}}},
                      {"scenario", std::move(scenario)},
                      {"modes", std::move(modes)},
                      {"notes", std::move(notes)}};
}

std::string render_report_json(const CompareReport& r) {
  std::string out;
  pretty(out, report_to_json(r), 0);
  return out + "\n";
}

}  // namespace corral::compare
