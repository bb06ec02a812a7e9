#pragma once
// A process `corral compare` starts (a corral, a redis-server, a Node cluster): its output goes
// to a log file, it dies with compare (PDEATHSIG), and it is stopped, by its pid only, when
// this object goes: TERM, then KILL after a grace period.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace corral::compare {

// One started child.
class ChildProcess {
 public:
  // Starts `argv` (argv[0] looked up in PATH) in `cwd` with the caller's environment plus
  // `env` ("NAME=value"), stdout and stderr appended to `log_path`. Throws std::runtime_error
  // when it cannot be started.
  ChildProcess(std::vector<std::string> argv, const std::string& log_path,
               const std::string& cwd = {}, std::vector<std::string> env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Whether it still runs (reaps it when it has exited).
  bool running();
  // TERM, then KILL after `grace`; waits for it. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  void kill_now();  // KILL and reap

 private:
  bool wait_for(std::chrono::milliseconds limit);
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// "node" -> "/usr/bin/node", or empty when it is nowhere in PATH.
std::string find_in_path(const std::string& program);

}  // namespace corral::compare
