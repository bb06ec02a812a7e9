#pragma once
// Figures read from corral's /metrics text (Prometheus exposition format). Pure.
#include <string_view>

namespace corral::compare {

// The sum of every sample of metric `name` (any labels) whose labels contain `label_part`
// (e.g. `class="5xx"`; empty: all); 0 when there is none.
double sum_metric(std::string_view text, std::string_view name, std::string_view label_part = {});

}  // namespace corral::compare
