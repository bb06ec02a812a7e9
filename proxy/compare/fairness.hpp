#pragma once
// Jain's fairness index of a load spread: (sum x)^2 / (n * sum x^2), 1 when every worker did
// the same, 1/n when one did everything.
#include <cstdint>
#include <vector>

namespace corral::compare {

// 1 for no load at all (nothing unfair happened) and for a single worker.
double jain_index(const std::vector<std::uint64_t>& load);

// Each worker's fraction of the total (0 each when the total is 0).
std::vector<double> shares(const std::vector<std::uint64_t>& load);

}  // namespace corral::compare
