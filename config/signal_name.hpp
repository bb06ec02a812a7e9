#pragma once
// Signal names as written in the config file ("SIGTERM", "TERM", "sigint").
#include <optional>
#include <string>
#include <string_view>

namespace corral::config {

// A signal worth sending to stop a worker.
struct SignalName {
  std::string name;  // with the SIG prefix, upper case: "SIGTERM"
  int number = 0;
};

// SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGKILL, with or without the SIG prefix,
// in any case.
std::optional<SignalName> parse_signal_name(std::string_view text);

}  // namespace corral::config
