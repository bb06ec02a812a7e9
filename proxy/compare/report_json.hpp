#pragma once
// report.json: every figure of the comparison, for scripts and for the other report writers'
// tests. Pure.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/compare/mode_result.hpp"

namespace corral::compare {

// The edges (microseconds) of the latency ranges the reports show.
const std::vector<std::uint64_t>& latency_edges_us();
// "0.25 ms", "1 ms", "2 s": how an edge is written.
std::string format_edge(std::uint64_t micros);

boost::json::object mode_to_json(const ModeResult& m);
boost::json::object report_to_json(const CompareReport& r);
// Pretty-printed, with a final newline.
std::string render_report_json(const CompareReport& r);

}  // namespace corral::compare
