#include "tests/deploy/deploy_files.hpp"

#include <fstream>
#include <sstream>

#include "tests/integration/harness.hpp"

namespace corral::test {

std::filesystem::path source_dir() { return CORRAL_SOURCE_DIR; }

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw HarnessError("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> check_problems(const std::filesystem::path& config, const Env& env) {
  auto r = run_command({CORRAL_BINARY, "check", "-c", config.string()}, 20s, env);
  std::vector<std::string> problems;
  if (r.exit_code == 0) return problems;
  std::istringstream lines(r.out + "\n" + r.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (line.find("is already in use by another process") != std::string::npos) continue;
    problems.push_back(line);
  }
  if (problems.empty() && r.exit_code != 2)
    problems.push_back("corral check exited " + std::to_string(r.exit_code) + " without a problem");
  return problems;
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

}  // namespace corral::test
