#pragma once
// deploy/Dockerfile read as the tests need it: its stages, the packages each installs with
// apt-get, its USER, HEALTHCHECK and CMD.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace corral::test {

struct DockerStage {
  std::string from;                      // the base image
  std::string name;                      // after AS
  std::set<std::string> packages;        // apt-get install arguments that are not options
  std::vector<std::string> copies;       // COPY lines, as written
  std::string user;                      // the last USER
  std::vector<std::string> healthcheck;  // the exec form of HEALTHCHECK CMD
  std::vector<std::string> cmd;          // the exec form of CMD
};

// Continuation lines joined, comments left out; throws on a form it does not read.
std::vector<DockerStage> read_dockerfile(const std::filesystem::path& path);

}  // namespace corral::test
