#include "proxy/master/proc_stats.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace corral::master {

std::optional<ProcessUsage> read_process_usage(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // pid (comm) state ppid ... : comm may hold spaces and parentheses, so split after the last ')'.
  auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string field;
  ProcessUsage usage;
  // After comm: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime(14) stime(15).
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14 || index == 15) usage.cpu_ticks += std::stoull(field);
  }
  std::ifstream statm(dir + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (statm >> size >> resident) {
    usage.rss_bytes = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  return usage;
}

void CpuSampler::sample(const std::vector<pid_t>& pids, Clock::time_point now) {
  static const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::map<pid_t, Sample> next;
  for (pid_t pid : pids) {
    auto usage = read_process_usage(pid);
    if (!usage) continue;
    Sample sample{*usage, now, 0};
    if (auto it = samples_.find(pid); it != samples_.end()) {
      double seconds = std::chrono::duration<double>(now - it->second.at).count();
      if (seconds > 0 && usage->cpu_ticks >= it->second.usage.cpu_ticks) {
        sample.cpu_percent = 100.0 *
                             static_cast<double>(usage->cpu_ticks - it->second.usage.cpu_ticks) /
                             ticks_per_second / seconds;
      }
    }
    next.emplace(pid, sample);
  }
  samples_ = std::move(next);
}

double CpuSampler::cpu_percent(pid_t pid) const {
  auto it = samples_.find(pid);
  return it == samples_.end() ? 0.0 : it->second.cpu_percent;
}

std::uint64_t CpuSampler::rss_bytes(pid_t pid) const {
  auto it = samples_.find(pid);
  return it == samples_.end() ? 0 : it->second.usage.rss_bytes;
}

}  // namespace corral::master
