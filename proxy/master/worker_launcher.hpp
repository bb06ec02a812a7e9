#pragma once
// Starts one worker process: fork+exec of the app's command in its own process group, with
// PORT, CORRAL_WORKER_ID, CORRAL_GENERATION, the IPC channel on fd 3 (NODE_CHANNEL_FD for
// Node's process.send, CORRAL_CHANNEL_FD for any other language), and stdout/stderr on pipes
// whose lines the master logs.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "proxy/master/worker_spec.hpp"

namespace corral::master {

// The master's ends of a started worker's descriptors (close-on-exec; the caller owns them).
struct LaunchedWorker {
  pid_t pid = -1;
  int channel_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

struct LaunchResult {
  std::optional<LaunchedWorker> worker;
  std::string error;
};

// The channel's number in the worker.
inline constexpr int worker_channel_fd = 3;

LaunchResult launch_worker(const WorkerSpec& spec, std::uint32_t slot, std::uint64_t generation,
                           std::uint16_t port);

// A loopback port nothing listens on right now (bound to port 0, then released).
std::uint16_t pick_free_port();

}  // namespace corral::master
