#include "proxy/compare/metrics_scrape.hpp"

#include <cstdlib>
#include <string>

namespace corral::compare {

double sum_metric(std::string_view text, std::string_view name, std::string_view label_part) {
  double sum = 0;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (line.empty() || line.front() == '#' || !line.starts_with(name)) continue;
    std::string_view rest = line.substr(name.size());
    std::string_view labels;
    if (!rest.empty() && rest.front() == '{') {
      auto close = rest.find('}');
      if (close == std::string_view::npos) continue;
      labels = rest.substr(1, close - 1);
      rest = rest.substr(close + 1);
    }
    if (rest.empty() || rest.front() != ' ') continue;  // another metric with this prefix
    if (!label_part.empty() && labels.find(label_part) == std::string_view::npos) continue;
    sum += std::strtod(std::string(rest.substr(1)).c_str(), nullptr);
  }
  return sum;
}

}  // namespace corral::compare
