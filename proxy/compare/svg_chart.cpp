#include "proxy/compare/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace corral::compare {

namespace {

constexpr double width = 640;
constexpr double height = 260;
constexpr double left = 52;
constexpr double right = 12;
constexpr double top = 14;
constexpr double bottom = 58;  // x labels and the legend
constexpr double plot_w = width - left - right;
constexpr double plot_h = height - top - bottom;

std::string number(double v) {
  if (v >= 1000) return fmt::format("{:.0f}", v);
  if (v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:g}", v);
}

double y_max_of(const std::vector<ChartSeries>& series) {
  double m = 0;
  for (const auto& s : series)
    for (double v : s.values) m = std::max(m, v);
  return m;
}

// Opening tag, y grid with labels, axis titles.
std::string open_chart(const ChartFrame& f, double y_top, double step) {
  std::string o = fmt::format(
      "<svg class=\"chart\" data-chart=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\" preserveAspectRatio=\"xMidYMid meet\">\n",
      html_escape(f.id), width, height, html_escape(f.title));
  o += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#ddd\"/>\n",
      left, top, plot_w, plot_h);
  for (double v = 0; v <= y_top + step / 1000; v += step) {
    const double y = top + plot_h - v / y_top * plot_h;
    o += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e4e4e4\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{}</text>\n",
        left, left + plot_w, y, y, left - 4, y + 4, number(v));
  }
  o += fmt::format(
      "<text x=\"12\" y=\"{:.1f}\" class=\"axis\" transform=\"rotate(-90 12 {:.1f})\" "
      "text-anchor=\"middle\">{}</text>\n",
      top + plot_h / 2, top + plot_h / 2, html_escape(f.y_label));
  o += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"axis\" text-anchor=\"middle\">{}</text>\n",
      left + plot_w / 2, top + plot_h + 30, html_escape(f.x_label));
  return o;
}

std::string legend(const std::vector<ChartSeries>& series,
                   const std::vector<ChartMarker>& markers) {
  std::string o;
  double x = left;
  const double y = height - 10;
  for (const auto& s : series) {
    o += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"legend\">{}</text>\n",
        x, y - 9, s.color, x + 14, y, html_escape(s.name));
    x += 24 + 7.0 * double(s.name.size());
  }
  if (!markers.empty()) {
    o += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#c00\" "
        "stroke-dasharray=\"3 2\"/><text x=\"{:.1f}\" y=\"{:.1f}\" class=\"legend\">"
        "faults: K kill, R rolling restart, D Redis</text>\n",
        x + 5, x + 5, y - 10, y + 1, x + 12, y);
  }
  return o;
}

std::string draw_markers(const std::vector<ChartMarker>& markers, double x_max) {
  std::string o;
  for (const auto& m : markers) {
    if (x_max <= 0) break;
    const double x = left + std::clamp(m.x / x_max, 0.0, 1.0) * plot_w;
    o += fmt::format(
        "<line class=\"fault\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" "
        "stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"
        "<text x=\"{:.1f}\" y=\"{}\" class=\"marker\" fill=\"{}\" "
        "text-anchor=\"middle\">{}</text>\n",
        x, x, top, top + plot_h, m.color, x, top + 10, m.color, html_escape(m.label));
  }
  return o;
}

}  // namespace

double nice_step(double max, int ticks) {
  if (max <= 0) return 1;
  const double raw = max / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const std::string& palette(std::size_t i) {
  static const std::vector<std::string> colors{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                               "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                               "#bcbd22", "#17becf"};
  return colors[i % colors.size()];
}

std::string line_chart(const ChartFrame& f, const std::vector<ChartSeries>& series,
                       const std::vector<ChartMarker>& markers) {
  std::size_t n = 0;
  for (const auto& s : series) n = std::max(n, s.values.size());
  const double x_max = std::max<double>(1, double(n));
  const double step = nice_step(std::max(1.0, y_max_of(series)), 4);
  const double y_top = step * std::ceil(std::max(1.0, y_max_of(series)) / step);
  std::string o = open_chart(f, y_top, step);
  const double x_step = nice_step(x_max, 8);
  for (double v = 0; v <= x_max + 1e-9; v += x_step) {
    const double x = left + v / x_max * plot_w;
    o += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", x,
        top + plot_h + 14, number(v));
  }
  for (const auto& s : series) {
    if (s.values.empty()) continue;
    std::string points;
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      const double x = left + (double(i) + 0.5) / x_max * plot_w;
      const double y = top + plot_h - s.values[i] / y_top * plot_h;
      points += fmt::format("{:.1f},{:.1f} ", x, y);
    }
    o += fmt::format(
        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
        "points=\"{}\"><title>{}</title></polyline>\n",
        s.color, points, html_escape(s.name));
  }
  o += draw_markers(markers, x_max);
  o += legend(series, markers);
  return o + "</svg>\n";
}

std::string bar_chart(const ChartFrame& f, const std::vector<std::string>& categories,
                      const std::vector<ChartSeries>& series,
                      const std::vector<ChartMarker>& markers) {
  const double n = std::max<double>(1, double(categories.size()));
  const double step = nice_step(std::max(1.0, y_max_of(series)), 4);
  const double y_top = step * std::ceil(std::max(1.0, y_max_of(series)) / step);
  std::string o = open_chart(f, y_top, step);
  const double group_w = plot_w / n;
  const double bar_w = group_w * 0.8 / double(std::max<std::size_t>(1, series.size()));
  // Label every category when they fit, else every k-th.
  const std::size_t every =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(n * 40 / plot_w)));
  for (std::size_t c = 0; c < categories.size(); ++c) {
    if (c % every) continue;
    const double x = left + (double(c) + (f.edge_labels ? 0.0 : 0.5)) * group_w;
    o += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", x,
        top + plot_h + 14, html_escape(categories[c]));
  }
  for (std::size_t s = 0; s < series.size(); ++s) {
    for (std::size_t c = 0; c < series[s].values.size() && c < categories.size(); ++c) {
      const double v = series[s].values[c];
      const double h = v / y_top * plot_h;
      const double x = left + double(c) * group_w + group_w * 0.1 + double(s) * bar_w;
      // A zero still draws a hairline, so an empty bar reads as "none", not as missing data.
      o += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{} {}: {}</title></rect>\n",
          x, top + plot_h - std::max(h, 0.5), std::max(bar_w - 1, 1.0), std::max(h, 0.5),
          series[s].color, html_escape(series[s].name), html_escape(categories[c]), number(v));
    }
  }
  o += draw_markers(markers, n);
  o += legend(series, markers);
  return o + "</svg>\n";
}

}  // namespace corral::compare
