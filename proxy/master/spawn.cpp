#include "proxy/master/spawn.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>

extern char** environ;

namespace corral::master {
namespace {

// Where in the child a failure happened, reported with errno through the report pipe.
enum Stage : int { stage_fds = 1, stage_cwd = 2, stage_exec = 3 };

struct Report {
  int stage = 0;
  int error = 0;
};

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void become_child(const SpawnRequest& r, char* const* argv, char* const* envp,
                               pid_t parent, int devnull, int report_fd, int high_fd) {
  auto fail = [&](Stage stage) {
    Report report{stage, errno};
    (void)!::write(report_fd, &report, sizeof report);
    ::_exit(127);
  };
  // Default handling for every signal before any can be delivered (the master blocked them
  // all around fork): exec keeps ignored signals ignored, and the master's handlers would
  // write into the master's own signal pipe.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  if (r.own_process_group) ::setpgid(0, 0);
  if (r.death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, r.death_signal);
    // The master may have died before prctl: then nobody would send the signal.
    if (::getppid() != parent) ::_exit(127);
  }
  // Two steps, so that no source is overwritten before it is copied.
  int copies[64];
  const std::size_t n = std::min<std::size_t>(r.fds.size(), 64);
  for (std::size_t i = 0; i < n; ++i) {
    copies[i] = ::fcntl(r.fds[i].first, F_DUPFD_CLOEXEC, high_fd);
    if (copies[i] < 0) fail(stage_fds);
  }
  bool mapped[3] = {false, false, false};
  for (std::size_t i = 0; i < n; ++i) {
    if (::dup2(copies[i], r.fds[i].second) < 0) fail(stage_fds);
    if (r.fds[i].second < 3) mapped[r.fds[i].second] = true;
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (!mapped[fd] && ::dup2(devnull, fd) < 0) fail(stage_fds);
  }
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < high_fd + 128; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (r.fds[i].second >= 3) ::fcntl(r.fds[i].second, F_SETFD, 0);
  }
  for (int fd : r.inherit) ::fcntl(fd, F_SETFD, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!r.cwd.empty() && ::chdir(r.cwd.c_str()) != 0) fail(stage_cwd);
  ::execvpe(r.program.empty() ? argv[0] : r.program.c_str(), argv, envp);
  fail(stage_exec);
  ::_exit(127);
}

}  // namespace

SpawnResult spawn(const SpawnRequest& r) {
  SpawnResult result;
  if (r.argv.empty()) {
    result.error = "no command to run";
    return result;
  }
  if (r.fds.size() > 64) {
    result.error = "too many descriptors for a child";
    return result;
  }
  // Everything the child needs is prepared before fork.
  std::vector<std::string> argv_copy = r.argv;
  std::vector<std::string> env_copy = r.env;
  std::vector<char*> argv;
  for (auto& a : argv_copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);

  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int report[2];
  if (devnull < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    result.error = std::string("cannot prepare a child: ") + std::strerror(errno);
    if (devnull >= 0) ::close(devnull);
    return result;
  }
  int high_fd = std::max({devnull, report[0], report[1], 2}) + 1;
  for (auto [from, to] : r.fds) high_fd = std::max({high_fd, from + 1, to + 1});
  for (int fd : r.inherit) high_fd = std::max(high_fd, fd + 1);

  const pid_t parent = ::getpid();
  sigset_t all, old;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::fork();
  if (pid == 0) become_child(r, argv.data(), envp.data(), parent, devnull, report[1], high_fd);
  int fork_error = errno;
  // Also here, so the group exists whichever side runs first: a stop sent right away reaches it.
  if (pid > 0 && r.own_process_group) ::setpgid(pid, pid);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  ::close(report[1]);
  ::close(devnull);
  if (pid < 0) {
    ::close(report[0]);
    result.error = std::string("cannot fork: ") + std::strerror(fork_error);
    return result;
  }
  Report failure;
  ssize_t got;
  do {
    got = ::read(report[0], &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const char* why = std::strerror(failure.error);
    switch (failure.stage) {
      case stage_cwd:
        result.error = "cannot change to directory " + r.cwd + ": " + why;
        break;
      case stage_exec:
        result.error = "cannot run " + r.argv[0] + ": " + why;
        break;
      default:
        result.error = std::string("cannot hand descriptors to the child: ") + why;
    }
    return result;
  }
  result.pid = pid;
  return result;
}

std::vector<std::string> inherited_environment() {
  static constexpr std::string_view dropped[] = {
      "CORRAL_LISTEN_FDS",  "CORRAL_ADMIN_FD",  "CORRAL_CONTROL_FD",
      "CORRAL_CHANNEL_FD",  "NODE_CHANNEL_FD",  "NODE_CHANNEL_SERIALIZATION_MODE",
      "NODE_UNIQUE_ID",     "CORRAL_WORKER_ID", "CORRAL_GENERATION",
      "CORRAL_WORKER_SLOTS"};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (std::find(std::begin(dropped), std::end(dropped), name) == std::end(dropped)) {
      env.emplace_back(entry);
    }
  }
  return env;
}

}  // namespace corral::master
