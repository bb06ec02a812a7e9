#include "tests/deploy/dockerfile.hpp"

#include <boost/json/parse.hpp>
#include <sstream>

#include "tests/deploy/deploy_files.hpp"
#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

std::vector<std::string> exec_form(const std::string& json) {
  std::vector<std::string> out;
  const boost::json::value parsed = boost::json::parse(json);
  for (const auto& v : parsed.as_array()) out.emplace_back(v.as_string());
  return out;
}

// The packages of every `apt-get install` in a RUN line.
void add_packages(const std::string& run, std::set<std::string>& packages) {
  const auto words = words_of(run);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] != "apt-get" || words[i + 1] != "install") continue;
    for (std::size_t j = i + 2; j < words.size() && words[j] != "&&"; ++j)
      if (words[j].front() != '-') packages.insert(words[j]);
  }
}

}  // namespace

std::vector<DockerStage> read_dockerfile(const std::filesystem::path& path) {
  std::istringstream in(read_text(path));
  std::vector<std::string> instructions;
  std::string pending;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    instructions.push_back(pending + line);
    pending.clear();
  }
  if (!pending.empty()) throw HarnessError("a continued line ends the Dockerfile");

  std::vector<DockerStage> stages;
  for (const auto& text : instructions) {
    const auto words = words_of(text);
    const std::string& op = words.at(0);
    const std::string rest = text.substr(text.find(op) + op.size());
    if (op == "FROM") {
      DockerStage s;
      s.from = words.at(1);
      if (words.size() == 4 && words[2] == "AS") s.name = words[3];
      stages.push_back(std::move(s));
      continue;
    }
    if (stages.empty()) throw HarnessError("instruction before FROM: " + text);
    DockerStage& s = stages.back();
    if (op == "RUN") {
      add_packages(rest, s.packages);
    } else if (op == "COPY") {
      s.copies.push_back(rest);
    } else if (op == "USER") {
      s.user = words.at(1);
    } else if (op == "CMD") {
      s.cmd = exec_form(rest);
    } else if (op == "HEALTHCHECK") {
      const auto at = rest.find(" CMD ");
      if (at == std::string::npos) throw HarnessError("HEALTHCHECK without CMD: " + text);
      s.healthcheck = exec_form(rest.substr(at + 5));
    }
  }
  return stages;
}

}  // namespace corral::test
