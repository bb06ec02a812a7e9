#pragma once
// What the deploy/ tests share: the repository's files, and `corral check` on a config the way a
// container would run it.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace corral::test {

using Env = std::vector<std::pair<std::string, std::string>>;

// The repository root (the source tree the tests were built from).
std::filesystem::path source_dir();
// A whole file's text (throws when it cannot be read).
std::string read_text(const std::filesystem::path& path);

// Runs `corral check -c config` with `env` added to the environment and returns the problems
// it printed, one line each, leaving out ports in use on this machine: the listen and admin
// addresses of deploy/ are the container's (8080, 9901), which something else on the machine
// running the tests may hold. Every other problem (keys, values, files, the worker command)
// counts. Empty: the config passes.
std::vector<std::string> check_problems(const std::filesystem::path& config, const Env& env = {});

// The words of a shell-ish line, split on blanks.
std::vector<std::string> words_of(const std::string& line);

}  // namespace corral::test
