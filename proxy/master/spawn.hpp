#pragma once
// fork + exec of a child of the master, done so that the child holds exactly the descriptors
// it is meant to, dies with the master (PR_SET_PDEATHSIG), and starts with default signal
// handling. Exec failures are reported to the caller, not discovered later as an exit code.
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace corral::master {

// What to start and how.
struct SpawnRequest {
  std::vector<std::string> argv;         // argv[0] is looked up in PATH, unless `program` is set
  std::string program;                   // the file to run, when it is not argv[0]
  std::vector<std::string> env;          // the whole environment, "NAME=value"
  std::string cwd;                       // empty: the master's
  std::vector<std::pair<int, int>> fds;  // (descriptor in the master, number in the child)
  std::vector<int> inherit;              // descriptors kept at their own number
  bool own_process_group = false;        // setpgid(0, 0): signalled and killed as a group
  int death_signal = 0;                  // sent to the child when the master dies; 0: none
};

// The child's pid, or why there is none.
struct SpawnResult {
  pid_t pid = -1;
  std::string error;  // "cannot run node: No such file or directory"
};

// Starts the child. Descriptors not named in `fds` or `inherit` are closed at exec; a child
// descriptor number missing from `fds` among 0, 1, 2 is /dev/null.
SpawnResult spawn(const SpawnRequest& request);

// The master's environment without the variables corral sets for its children.
std::vector<std::string> inherited_environment();

}  // namespace corral::master
