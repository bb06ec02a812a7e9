#pragma once
// ${VAR} and ${VAR:-default} in config values, for containers that pass settings by environment.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace corral::config {

// The text with every variable replaced, or why that failed.
struct EnvSubstitution {
  std::string text;
  std::string error;  // empty on success, else e.g. "environment variable 'PORT' is not set"

  bool ok() const { return error.empty(); }
};

// Answers the value of one variable, or nothing when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Replaces ${NAME} with the variable's value (an error when unset) and ${NAME:-default} with the
// value, or with the default when the variable is unset or empty. "$${" stands for a literal
// "${". A "$" not followed by "{" is kept as is. The default is taken literally up to the first
// "}" (no nesting). NAME is letters, digits and '_', not starting with a digit.
EnvSubstitution substitute_env(std::string_view text, const EnvLookup& lookup);

// Same, reading the process environment.
EnvSubstitution substitute_env(std::string_view text);

}  // namespace corral::config
