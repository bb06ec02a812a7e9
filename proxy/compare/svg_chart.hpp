#pragma once
// Small inline SVG charts for report.html: lines over time and grouped bars, with axes, a
// legend and vertical markers (the faults). Pure text; each chart is an <svg class="chart">
// that scales to the page's width.
#include <string>
#include <vector>

namespace corral::compare {

// One line or one kind of bar.
struct ChartSeries {
  std::string name;
  std::string color;
  std::vector<double> values;
};

// A vertical line at `x` (the x axis's units) with a short label.
struct ChartMarker {
  double x = 0;
  std::string label;
  std::string color;
};

// What every chart has.
struct ChartFrame {
  std::string id;       // data-chart
  std::string title;    // for screen readers (aria-label)
  std::string y_label;  // unit of the y axis
  std::string x_label;
  bool edge_labels = false;  // bar_chart: a category's label at its left edge (time: seconds)
};

// Values at x = 0.5, 1.5, ... (one per second); the x axis runs from 0 to the longest series.
std::string line_chart(const ChartFrame& frame, const std::vector<ChartSeries>& series,
                       const std::vector<ChartMarker>& markers);

// One group of bars per category (series side by side); markers at x in category units
// (category i spans [i, i+1)).
std::string bar_chart(const ChartFrame& frame, const std::vector<std::string>& categories,
                      const std::vector<ChartSeries>& series,
                      const std::vector<ChartMarker>& markers);

// A pleasant "round" step for an axis from 0 to `max` with about `ticks` steps.
double nice_step(double max, int ticks);

std::string html_escape(const std::string& text);

// Distinct colours for workers and modes.
const std::string& palette(std::size_t i);

}  // namespace corral::compare
