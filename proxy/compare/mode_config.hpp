#pragma once
// The corral config each mode runs on: the same listeners, workers and timeouts, only the
// balancing and session keeping differ. Pure text, so a test reads exactly what runs.
#include <cstdint>
#include <string>

#include "proxy/compare/scenario.hpp"

namespace corral::compare {

// What a mode's config needs beyond the scenario.
struct ModeConfigInputs {
  Mode mode = Mode::round_robin;
  std::string app_command_yaml;  // the workers.command as a YAML flow list
  std::string cwd;               // absolute
  std::string redis_url;         // shared mode
  std::string insert_key;        // sticky-insert: the signing key (at least 16 bytes)
};

// A YAML flow list of double-quoted words: ["node", "server.js"].
std::string yaml_flow_list(const std::vector<std::string>& words);
std::string yaml_quote(const std::string& text);

// The whole corral.yaml: listeners on free loopback ports (port 0: corral reports the bound
// ones in its status), admin on, no access log.
std::string render_mode_config(const Scenario& scenario, const ModeConfigInputs& in);

}  // namespace corral::compare
