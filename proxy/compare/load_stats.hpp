#pragma once
// What the simulated users saw during one mode's run: totals, latencies, and the same counts
// second by second for the timeline.
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/compare/latency_histogram.hpp"

namespace corral::compare {

// One second of the run.
struct SecondStats {
  std::uint64_t requests = 0;
  std::uint64_t failed = 0;
  std::uint64_t lost = 0;  // sessions lost in this second
};

// The users' view of a whole run.
struct LoadStats {
  LatencyHistogram latency;  // every request that got an answer
  std::uint64_t requests = 0;
  std::uint64_t failed = 0;  // no answer, or an answer that is neither 200 nor 401
  std::uint64_t lost = 0;    // sessions lost: answered as a stranger, or a cart missing items
  std::uint64_t logins = 0;  // sessions started
  // Answers to a logged-in user from another worker than the session's previous answer (from
  // the app's worker header): what sticky routing prevents while the session's worker lives.
  std::uint64_t moved = 0;
  std::vector<SecondStats> seconds;
  std::vector<std::string> examples;  // a few failures and losses, as they happened

  SecondStats& second(std::size_t index);
  void note(std::string example);
};

}  // namespace corral::compare
