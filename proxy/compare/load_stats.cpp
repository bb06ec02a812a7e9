#include "proxy/compare/load_stats.hpp"

namespace corral::compare {

SecondStats& LoadStats::second(std::size_t index) {
  if (seconds.size() <= index) seconds.resize(index + 1);
  return seconds[index];
}

void LoadStats::note(std::string example) {
  if (examples.size() < 20) examples.push_back(std::move(example));
}

}  // namespace corral::compare
