// The command line: `corral check` on good and bad files, `corral run` refusing a bad file,
// `corral version`.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

const char* const valid_yaml = R"(listen: ["127.0.0.1:18080", "[::1]:18080"]
threads: auto
admin: 127.0.0.1:19901
upstreams:
  - { address: 127.0.0.1:13000, weight: 2 }
  - { address: 127.0.0.1:13001 }
balance: least_loaded
timeouts: { connect: 2s, client_header: 10s, idle: 60s, upstream_response: 250ms, drain: 30s }
limits: { max_header_bytes: 16KiB, max_body_bytes: 100MiB, max_connections: 10000 }
health: { path: /health, interval: 2s, timeout: 1s }
retries: 2
access_log: stdout
)";

// Problem lines: "FILE:LINE:COL: KEY: MESSAGE".
struct Problem {
  int line = 0;
  int column = 0;
  std::string key;
  std::string message;
};

std::vector<Problem> problems_in(const std::string& err, const std::string& file) {
  std::vector<Problem> out;
  const std::regex re("^" +
                      std::regex_replace(file, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                      R"(:(\d+):(\d+): ([^:\s]+): (.+)$)");
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, re)) {
      out.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3], m[4]});
    }
  }
  return out;
}

const Problem* find_key(const std::vector<Problem>& ps, const std::string& key) {
  for (const auto& p : ps) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

TEST(ConfigCli, CheckAcceptsAValidFile) {
  TempDir dir;
  auto file = dir.write("good.yaml", valid_yaml);
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(ConfigCli, CheckReportsEveryProblemWithFileLineColumnAndKey) {
  TempDir dir;
  auto file = dir.write("bad.yaml",
                        "listen: [\"127.0.0.1:8080\"]\n"      // 1
                        "threads: auto\n"                     // 2
                        "balance: roundrobin\n"               // 3
                        "upstreams:\n"                        // 4
                        "  - { address: 127.0.0.1:99999 }\n"  // 5
                        "timeouts: { connect: 2 parsecs }\n"  // 6
                        "limits: { max_body_bytes: lots }\n"  // 7
                        "retires: 3\n");                      // 8
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto ps = problems_in(r.err, file.string());
  EXPECT_GE(ps.size(), 5u) << "every problem is reported, not just the first:\n" << r.err;

  const std::map<std::string, int> expected = {{"balance", 3},
                                               {"upstreams[0].address", 5},
                                               {"timeouts.connect", 6},
                                               {"limits.max_body_bytes", 7},
                                               {"retires", 8}};
  for (const auto& [key, line] : expected) {
    const Problem* p = find_key(ps, key);
    ASSERT_NE(p, nullptr) << "no problem reported for " << key << " in:\n" << r.err;
    EXPECT_EQ(p->line, line) << key;
    EXPECT_GE(p->column, 1) << key;
    EXPECT_FALSE(p->message.empty()) << key;
  }
  // A near-miss key gets a suggestion.
  EXPECT_NE(find_key(ps, "retires")->message.find("retries"), std::string::npos)
      << find_key(ps, "retires")->message;
  // Columns point into the line: the bad duration's value starts at column 22.
  EXPECT_EQ(find_key(ps, "timeouts.connect")->column, 22) << r.err;
}

TEST(ConfigCli, CheckReportsYamlSyntaxErrorsWithLocation) {
  TempDir dir;
  auto file = dir.write("broken.yaml", "listen: [\"127.0.0.1:8080\"\nthreads: 1\n");
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex(file.string() + R"(:\d+:\d+: )"))) << r.err;
}

TEST(ConfigCli, CheckFailsOnAMissingFile) {
  TempDir dir;
  const std::string missing = (dir.path() / "nope.yaml").string();
  auto r = run_command({CORRAL_BINARY, "check", "-c", missing});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
}

TEST(ConfigCli, CheckSubstitutesEnvironmentVariables) {
  TempDir dir;
  auto file = dir.write("env.yaml",
                        "listen: [\"127.0.0.1:8080\"]\n"
                        "upstreams:\n"
                        "  - { address: \"${CORRAL_IT_UPSTREAM}\" }\n");
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()}, 20s,
                       {{"CORRAL_IT_UPSTREAM", "127.0.0.1:3000"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(ConfigCli, RunRefusesABadFileWithExit2) {
  TempDir dir;
  auto file = dir.write("bad.yaml",
                        "listen: [\"127.0.0.1:0\"]\n"
                        "admin: 127.0.0.1:0\n"
                        "upstreams:\n"
                        "  - { address: 127.0.0.1:3000 }\n"
                        "timeouts: { drain: forever }\n");
  auto r = run_command({CORRAL_BINARY, "run", "-c", file.string()}, 10s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto ps = problems_in(r.err, file.string());
  const Problem* p = find_key(ps, "timeouts.drain");
  ASSERT_NE(p, nullptr) << r.err;
  EXPECT_EQ(p->line, 5);
}

TEST(ConfigCli, VersionPrintsTheVersion) {
  auto r = run_command({CORRAL_BINARY, "version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
#ifdef CORRAL_VERSION
  EXPECT_NE(r.out.find(CORRAL_VERSION), std::string::npos) << r.out;
#else
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\d+\.\d+\.\d+)"))) << r.out;
#endif
}

TEST(ConfigCli, HelpIsAvailableForEachCommand) {
  for (const char* cmd : {"run", "check", "version"}) {
    auto r = run_command({CORRAL_BINARY, cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
    EXPECT_FALSE((r.out + r.err).empty()) << cmd;
  }
}

}  // namespace
}  // namespace corral::test
