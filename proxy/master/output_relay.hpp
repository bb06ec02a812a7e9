#pragma once
// A worker's stdout or stderr, read line by line into corral's log with the worker's slot and
// pid in front, so the app's output stays attributable when N copies of it run.
#include <string>

#include "proxy/master/asio.hpp"

namespace corral::master {

// Reads `fd` (owned from now on) until end of file; each line is logged as
// "[slot 0 pid 4242] text" (stdout) or "[slot 0 pid 4242 stderr] text" (stderr). Lines longer
// than 64 KiB are logged in pieces.
void relay_output(asio::io_context& ioc, int fd, std::string prefix, bool is_stderr);

}  // namespace corral::master
