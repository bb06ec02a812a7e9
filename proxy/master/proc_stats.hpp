#pragma once
// CPU and memory of processes, read from /proc, for `corral status`.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "proxy/master/process_table.hpp"

namespace corral::master {

// A process's CPU time so far and its resident memory now.
struct ProcessUsage {
  std::uint64_t cpu_ticks = 0;  // user + system, in clock ticks
  std::uint64_t rss_bytes = 0;
};

// From /proc/PID/stat and /proc/PID/statm; nothing when the process is gone.
std::optional<ProcessUsage> read_process_usage(pid_t pid);

// CPU % of each process over the interval between its last two samples (100 = one core).
class CpuSampler {
 public:
  void sample(const std::vector<pid_t>& pids, Clock::time_point now);
  double cpu_percent(pid_t pid) const;
  std::uint64_t rss_bytes(pid_t pid) const;

 private:
  struct Sample {
    ProcessUsage usage;
    Clock::time_point at{};
    double cpu_percent = 0;
  };
  std::map<pid_t, Sample> samples_;
};

}  // namespace corral::master
