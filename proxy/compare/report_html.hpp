#pragma once
// report.html: one self-contained page (inline CSS and SVG, no script from elsewhere, no
// network) that reads on a phone: the summary table, and per mode the load of each worker over
// time and the sessions lost each second with the faults marked; the latency distribution of
// every mode side by side. Pure.
#include <string>

#include "proxy/compare/mode_result.hpp"

namespace corral::compare {

std::string render_report_html(const CompareReport& r);

}  // namespace corral::compare
