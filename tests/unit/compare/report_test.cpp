#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "proxy/compare/report_html.hpp"
#include "proxy/compare/report_json.hpp"
#include "proxy/compare/report_markdown.hpp"
#include "proxy/compare/report_table.hpp"

namespace corral::compare {
namespace {

namespace json = boost::json;

CompareReport sample() {
  CompareReport r;
  r.started_at = "2026-12-03T04:00:00Z";
  r.cores = 2;
  r.scenario.app.workers = 2;
  ModeResult shared;
  shared.mode = Mode::shared;
  shared.label = "shared";
  shared.seconds = 2;
  for (int i = 0; i < 100; ++i) shared.load.latency.record(1000 + i * 10);
  shared.load.requests = 100;
  shared.load.seconds = {{50, 0, 0}, {50, 1, 0}};
  shared.load.failed = 1;
  shared.load.moved = 40;
  shared.worker_requests = {50, 50};
  shared.worker_timeline = {{25, 25}, {25, 25}};
  shared.redis_per_request = 1.25;
  shared.faults = {{1.0, FaultKind::kill_worker, "slot 1 (pid 42)"}};
  ModeResult rr;
  rr.mode = Mode::round_robin;
  rr.label = "round-robin";
  rr.seconds = 2;
  rr.load.requests = 80;
  rr.load.lost = 30;
  rr.load.seconds = {{40, 0, 15}, {40, 0, 15}};
  rr.load.latency.record(500);
  rr.worker_requests = {60, 20};
  rr.worker_timeline = {{30, 10}, {30, 10}};
  ModeResult skipped;
  skipped.mode = Mode::sticky_learn;
  skipped.label = "sticky-learn";
  skipped.skipped = "corral was not ready in time";
  r.modes = {shared, rr, skipped};
  return r;
}

TEST(ReportJson, ParsesAndHoldsTheFigures) {
  auto v = json::parse(render_report_json(sample()));
  const auto& modes = v.at("modes").as_array();
  ASSERT_EQ(modes.size(), 3u);
  const auto& shared = modes[0].as_object();
  EXPECT_EQ(shared.at("requests").to_number<std::uint64_t>(), 100u);
  EXPECT_DOUBLE_EQ(shared.at("requests_per_second").as_double(), 50.0);
  EXPECT_EQ(shared.at("failed_requests").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(shared.at("moved_requests").to_number<std::uint64_t>(), 40u);
  EXPECT_DOUBLE_EQ(shared.at("jain_index").as_double(), 1.0);
  EXPECT_DOUBLE_EQ(shared.at("redis_round_trips_per_request").as_double(), 1.25);
  EXPECT_TRUE(shared.at("rehomed_sessions").is_null());
  EXPECT_EQ(shared.at("timeline").as_array().size(), 2u);
  EXPECT_EQ(shared.at("faults").as_array()[0].at("kind").as_string(), "kill");
  const auto p50 = shared.at("latency_ms").at("p50").as_double();
  EXPECT_GT(p50, 1.4);
  EXPECT_LT(p50, 1.6);
  std::uint64_t in_histogram = 0;
  for (const auto& b : shared.at("latency_histogram").as_array())
    in_histogram += b.at("count").to_number<std::uint64_t>();
  EXPECT_EQ(in_histogram, 100u);
  EXPECT_EQ(modes[1].at("sessions_lost").to_number<std::uint64_t>(), 30u);
  EXPECT_DOUBLE_EQ(modes[1].at("jain_index").as_double(), 0.8);  // 80^2 / (2 * 4000)
  EXPECT_EQ(modes[2].at("skipped").as_string(), "corral was not ready in time");
}

TEST(ReportTable, OneRowPerModeAligned) {
  auto t = render_terminal_table(sample());
  EXPECT_NE(t.find("mode "), std::string::npos);
  EXPECT_NE(t.find("round-robin"), std::string::npos);
  EXPECT_NE(t.find("75% 25%"), std::string::npos);
  EXPECT_NE(t.find("sticky-learn: corral was not ready in time"), std::string::npos);
}

TEST(ReportTable, TheArticleScenarioHasNoSessionColumns) {
  auto r = sample();
  r.scenario_name = "article";
  r.modes[0].masked_failures = 7;
  auto t = render_terminal_table(r);
  EXPECT_EQ(t.find("sessions lost"), std::string::npos);
  EXPECT_NE(t.find("retried"), std::string::npos);
  EXPECT_EQ(summary_cells(r.modes[0], false)[8], "7");
  EXPECT_NE(
      render_report_markdown(r).find(
          "| mode | req/s | p50 ms | p90 ms | p99 ms | max ms | failed | requests | retried |"),
      std::string::npos);
}

TEST(ReportMarkdown, TableAndSections) {
  auto md = render_report_markdown(sample());
  EXPECT_NE(md.find("| mode | req/s |"), std::string::npos);
  EXPECT_NE(md.find("| round-robin | 40 |"), std::string::npos);
  EXPECT_NE(md.find("## shared"), std::string::npos);
  EXPECT_NE(md.find("| 1.0 s | kill | slot 1 (pid 42) |"), std::string::npos);
  EXPECT_NE(md.find("Skipped: corral was not ready in time"), std::string::npos);
}

TEST(ReportHtml, SelfContainedWithEveryChart) {
  auto html = render_report_html(sample());
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(html.find("name=\"viewport\""), std::string::npos);
  // Two summary charts and two per mode that ran.
  std::size_t charts = 0;
  for (auto at = html.find("<svg class=\"chart\""); at != std::string::npos;
       at = html.find("<svg class=\"chart\"", at + 1))
    ++charts;
  EXPECT_EQ(charts, 6u);
  EXPECT_NE(html.find("data-chart=\"latency\""), std::string::npos);
  EXPECT_NE(html.find("data-chart=\"workers-round-robin\""), std::string::npos);
  EXPECT_NE(html.find("class=\"fault\""), std::string::npos);  // the kill, marked
  // Nothing from the network.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
}

}  // namespace
}  // namespace corral::compare
