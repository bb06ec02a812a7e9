#pragma once
// report.md: the summary table, what the figures mean, each mode's faults and a few examples
// of failures and lost sessions. Pure.
#include <string>

#include "proxy/compare/mode_result.hpp"

namespace corral::compare {

std::string render_report_markdown(const CompareReport& r);

}  // namespace corral::compare
