#include "proxy/compare/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "proxy/master/spawn.hpp"

namespace corral::compare {

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::string& log_path,
                           const std::string& cwd, std::vector<std::string> env) {
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open " + log_path);
  master::SpawnRequest r;
  r.argv = std::move(argv);
  r.env = master::inherited_environment();
  // A control socket named in the environment would make every corral share one.
  std::erase_if(r.env,
                [](const std::string& e) { return e.starts_with("CORRAL_CONTROL_SOCKET="); });
  for (auto& e : env) r.env.push_back(std::move(e));
  r.cwd = cwd;
  r.fds = {{log, 1}, {log, 2}};
  r.death_signal = SIGTERM;
  auto result = master::spawn(r);
  ::close(log);
  if (result.pid <= 0) throw std::runtime_error(result.error);
  pid_ = result.pid;
}

ChildProcess::~ChildProcess() { stop(); }

bool ChildProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

bool ChildProcess::wait_for(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (running()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  if (wait_for(grace)) return;
  kill_now();
}

void ChildProcess::kill_now() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  reaped_ = true;
}

std::string find_in_path(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0 ? program : std::string();
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (!dir.empty()) {
      std::string candidate = dir + "/" + program;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return {};
}

}  // namespace corral::compare
