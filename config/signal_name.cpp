#include "config/signal_name.hpp"

#include <csignal>
#include <utility>

namespace corral::config {

std::optional<SignalName> parse_signal_name(std::string_view text) {
  static const std::pair<std::string_view, int> known[] = {
      {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGHUP", SIGHUP},
      {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGKILL", SIGKILL}};
  std::string upper;
  for (char c : text) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  if (!upper.starts_with("SIG")) upper = "SIG" + upper;
  for (const auto& [name, number] : known) {
    if (upper == name) return SignalName{std::string(name), number};
  }
  return std::nullopt;
}

}  // namespace corral::config
