#include "proxy/compare/fairness.hpp"

namespace corral::compare {

double jain_index(const std::vector<std::uint64_t>& load) {
  double sum = 0;
  double squares = 0;
  for (auto x : load) {
    sum += double(x);
    squares += double(x) * double(x);
  }
  if (load.empty() || squares == 0) return 1.0;
  return sum * sum / (double(load.size()) * squares);
}

std::vector<double> shares(const std::vector<std::uint64_t>& load) {
  double sum = 0;
  for (auto x : load) sum += double(x);
  std::vector<double> out;
  out.reserve(load.size());
  for (auto x : load) out.push_back(sum > 0 ? double(x) / sum : 0.0);
  return out;
}

}  // namespace corral::compare
