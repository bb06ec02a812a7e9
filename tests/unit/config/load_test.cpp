#include "config/load.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace corral::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::string> lines_of(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const Problem& problem : result.problems) lines.push_back(problem.to_string());
  return lines;
}

// Loads `text` expecting exactly one problem, and returns it.
Problem only_problem(std::string_view text) {
  LoadResult result = load_string(text, "c.yaml");
  EXPECT_FALSE(result.config);
  EXPECT_EQ(result.problems.size(), 1u) << ::testing::PrintToString(lines_of(result));
  return result.problems.empty() ? Problem{} : result.problems.front();
}

void expect_problem(const Problem& problem, int line, int column, std::string_view key,
                    std::string_view message) {
  EXPECT_EQ(problem.file, "c.yaml");
  EXPECT_EQ(problem.line, line) << problem.to_string();
  EXPECT_EQ(problem.column, column) << problem.to_string();
  EXPECT_EQ(problem.key, key);
  EXPECT_EQ(problem.message, message);
}

constexpr std::string_view full_file = R"(listen: ["127.0.0.1:8080", "[::1]:8081"]
threads: 4
admin: 127.0.0.1:9901
upstreams:
  - { address: 127.0.0.1:3000, weight: 2 }
  - 127.0.0.1:3001
  - address: localhost:3002
balance: least_loaded
timeouts: { connect: 250ms, client_header: 5s, idle: 1m30s, upstream_response: 2m, drain: 1h }
limits: { max_header_bytes: 32KiB, max_body_bytes: 1GB, max_connections: 500 }
health: { path: /ready, interval: 5s, timeout: 500ms }
retries: 0
access_log: /var/log/corral/access.log
)";

TEST(LoadString, FullValidFile) {
  LoadResult result = load_string(full_file, "corral.yaml");
  ASSERT_TRUE(result.problems.empty()) << ::testing::PrintToString(lines_of(result));
  ASSERT_TRUE(result.config);
  const Config& config = *result.config;
  EXPECT_EQ(config.source, "corral.yaml");
  ASSERT_EQ(config.listen.size(), 2u);
  EXPECT_EQ(config.listen[0].address.host, "127.0.0.1");
  EXPECT_EQ(config.listen[0].address.port, 8080);
  EXPECT_EQ(config.listen[1].address.host, "::1");
  EXPECT_EQ(config.listen[1].address.port, 8081);
  EXPECT_EQ(config.listen[1].address.text, "[::1]:8081");
  EXPECT_EQ(config.threads, 4u);
  ASSERT_TRUE(config.admin);
  EXPECT_EQ(config.admin->port, 9901);
  ASSERT_EQ(config.upstreams.size(), 3u);
  EXPECT_EQ(config.upstreams[0].address.text, "127.0.0.1:3000");
  EXPECT_EQ(config.upstreams[0].weight, 2u);
  EXPECT_EQ(config.upstreams[1].address.port, 3001);
  EXPECT_EQ(config.upstreams[1].weight, 1u);
  EXPECT_EQ(config.upstreams[2].address.host, "localhost");
  EXPECT_EQ(config.upstreams[2].weight, 1u);
  EXPECT_EQ(config.balance, Balance::least_loaded);
  EXPECT_EQ(config.timeouts.connect, milliseconds(250));
  EXPECT_EQ(config.timeouts.client_header, seconds(5));
  EXPECT_EQ(config.timeouts.idle, seconds(90));
  EXPECT_EQ(config.timeouts.upstream_response, seconds(120));
  EXPECT_EQ(config.timeouts.drain, seconds(3600));
  EXPECT_EQ(config.limits.max_header_bytes, 32u * 1024);
  EXPECT_EQ(config.limits.max_body_bytes, 1'000'000'000u);
  EXPECT_EQ(config.limits.max_connections, 500u);
  EXPECT_TRUE(config.health.enabled);
  EXPECT_EQ(config.health.path, "/ready");
  EXPECT_EQ(config.health.interval, seconds(5));
  EXPECT_EQ(config.health.timeout, milliseconds(500));
  EXPECT_EQ(config.retries, 0u);
  EXPECT_EQ(config.access_log, "/var/log/corral/access.log");
}

TEST(LoadString, DefaultsAndShortForms) {
  LoadResult result = load_string("listen: 0.0.0.0:0\nupstreams: [127.0.0.1:3000]\n", "c.yaml");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  const Config& config = *result.config;
  ASSERT_EQ(config.listen.size(), 1u);
  EXPECT_EQ(config.listen[0].address.port, 0);
  EXPECT_EQ(config.threads, 0u);
  EXPECT_FALSE(config.admin);
  EXPECT_EQ(config.balance, Balance::round_robin);
  EXPECT_EQ(config.timeouts.connect, seconds(2));
  EXPECT_EQ(config.timeouts.client_header, seconds(10));
  EXPECT_EQ(config.timeouts.idle, seconds(60));
  EXPECT_EQ(config.timeouts.upstream_response, seconds(60));
  EXPECT_EQ(config.timeouts.drain, seconds(30));
  EXPECT_EQ(config.limits.max_header_bytes, 16u * 1024);
  EXPECT_EQ(config.limits.max_body_bytes, 100u * 1024 * 1024);
  EXPECT_EQ(config.limits.max_connections, 10000u);
  EXPECT_FALSE(config.health.enabled);
  EXPECT_EQ(config.retries, 2u);
  EXPECT_EQ(config.access_log, "stdout");
}

TEST(LoadString, AutoThreadsAdminOffAndEmptyHealth) {
  LoadResult result = load_string(
      "listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nthreads: auto\nadmin: off\nhealth: {}\n",
      "c.yaml");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  EXPECT_EQ(result.config->threads, 0u);
  EXPECT_FALSE(result.config->admin);
  EXPECT_TRUE(result.config->health.enabled);
  EXPECT_EQ(result.config->health.path, "/health");
  EXPECT_EQ(result.config->health.interval, seconds(2));
}

TEST(LoadString, CommentedOutSectionKeepsDefaults) {
  LoadResult result = load_string(
      "listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\ntimeouts:\n#  connect: 5s\n", "c.yaml");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  EXPECT_EQ(result.config->timeouts.connect, seconds(2));
}

TEST(LoadString, SyntaxErrorIsOneProblemAtYamlCppPosition) {
  Problem problem = only_problem("listen: [127.0.0.1:8080\nupstreams: []\n");
  EXPECT_EQ(problem.line, 2);
  EXPECT_EQ(problem.column, 10);
  EXPECT_EQ(problem.key, "");
  EXPECT_EQ(problem.message, "end of sequence flow not found");
}

TEST(LoadString, TopLevelMustBeAMap) {
  expect_problem(only_problem("- 127.0.0.1:8080\n"), 1, 1, "",
                 "expected a map of settings, got a list");
}

TEST(LoadString, UnknownKeyWithSuggestion) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nbalace: x\n"), 3, 1,
                 "balace", "unknown key; did you mean 'balance'?");
}

TEST(LoadString, UnknownNestedKeyWithSuggestion) {
  expect_problem(
      only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\ntimeouts:\n  conect: 2s\n"), 4,
      3, "timeouts.conect", "unknown key; did you mean 'connect'?");
}

TEST(LoadString, UnknownKeyInUpstream) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams:\n"
                              "  - { address: 127.0.0.1:2, wieght: 3 }\n"),
                 3, 29, "upstreams[0].wieght", "unknown key; did you mean 'weight'?");
}

TEST(LoadString, UnknownKeyFarFromAnyListsKnownKeys) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nplugins: 4\n"), 3, 1,
                 "plugins",
                 "unknown key (known keys: listen, threads, admin, upstreams, workers, balance, "
                 "sticky, timeouts, limits, health, retries, access_log, sessions, "
                 "trusted_proxies, shutdown_delay, http2)");
}

TEST(LoadString, RepeatedKey) {
  expect_problem(
      only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nretries: 1\nretries: 3\n"), 4, 1,
      "retries", "repeated key (first given on line 3)");
}

TEST(LoadString, ListWhereMapExpected) {
  expect_problem(
      only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\ntimeouts: [2s, 3s]\n"), 3, 11,
      "timeouts",
      "expected a map with keys connect, handshake, client_header, idle, upstream_response, drain, queue, "
      "got a "
      "list");
}

TEST(LoadString, MapWhereListExpected) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: { a: 1 }\n"), 2, 12, "upstreams",
                 "expected a list of upstreams, got a map");
}

TEST(LoadString, ThreadsNotANumber) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nthreads: abc\n"), 3,
                 10, "threads", "expected auto or a positive whole number, got 'abc'");
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nthreads: 0\n"), 3, 10,
                 "threads", "expected auto or a positive whole number, got '0'");
}

TEST(LoadString, WeightNotANumber) {
  expect_problem(only_problem("listen: 127.0.0.1:1\n"
                              "upstreams:\n"
                              "  - 127.0.0.1:2\n"
                              "  - address: 127.0.0.1:3\n"
                              "    weight: heavy\n"),
                 5, 13, "upstreams[1].weight", "expected a whole number, got 'heavy'");
}

TEST(LoadString, WeightOutOfRangeGetsItsPosition) {
  expect_problem(only_problem("listen: 127.0.0.1:1\n"
                              "upstreams:\n"
                              "  - { address: 127.0.0.1:2, weight: 1001 }\n"),
                 3, 37, "upstreams[0].weight", "must be from 1 to 1000, got 1001");
}

TEST(LoadString, UpstreamWithoutAddress) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams:\n  - weight: 3\n"), 3, 5,
                 "upstreams[0]", "missing key 'address'");
}

TEST(LoadString, BadAddresses) {
  expect_problem(only_problem("listen: localhost\nupstreams: [127.0.0.1:2]\n"), 1, 9, "listen",
                 "not an address: 'localhost' (no port; expected host:port)");
  expect_problem(only_problem("listen: [\"::1:8080\"]\nupstreams: [127.0.0.1:2]\n"), 1, 10,
                 "listen[0]",
                 "not an address: '::1:8080' (an IPv6 address needs brackets, as in [::1]:8080)");
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:99999]\n"), 2, 13,
                 "upstreams[0]",
                 "not an address: '127.0.0.1:99999' (expected host:port or [ipv6]:port, port "
                 "0..65535)");
}

TEST(LoadString, BadDuration) {
  expect_problem(
      only_problem(
          "listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\ntimeouts: { idle: 2 parsecs }\n"),
      3, 19, "timeouts.idle",
      "not a duration: '2 parsecs' (expected whole numbers with h, m, s or ms, as in 250ms, 2s, "
      "1m30s)");
}

TEST(LoadString, DurationWithoutUnit) {
  expect_problem(
      only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nhealth:\n  interval: 30\n"), 4,
      13, "health.interval", "'30' has no unit; write 30s or 30ms");
}

TEST(LoadString, BadSize) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\n"
                              "limits:\n  max_body_bytes: 10 apples\n"),
                 4, 19, "limits.max_body_bytes",
                 "not a size: '10 apples' (expected bytes, or a whole number with B, KiB, MiB, "
                 "GiB, KB, MB or GB)");
}

TEST(LoadString, UnknownBalance) {
  expect_problem(
      only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nbalance: least_load\n"), 3, 10,
      "balance", "unknown balance 'least_load'; did you mean 'least_loaded'?");
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nbalance: random\n"),
                 3, 10, "balance",
                 "unknown balance 'random' (expected round_robin, least_loaded or sticky)");
}

TEST(LoadString, NullWhereValueExpectedPointsAtTheKey) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nadmin:\nupstreams: [127.0.0.1:2]\n"), 2, 1,
                 "admin", "expected an address or off, got nothing");
}

TEST(LoadString, MissingRequiredSectionsHaveNoPosition) {
  LoadResult result = load_string("threads: 2\n", "c.yaml");
  EXPECT_EQ(lines_of(result),
            (std::vector<std::string>{"c.yaml: listen: at least one listen address is required",
                                      "c.yaml: upstreams: at least one upstream is required (or a "
                                      "workers: section)"}));
}

TEST(LoadString, EmptyListGetsItsPosition) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: []\n"), 2, 12, "upstreams",
                 "at least one upstream is required (or a workers: section)");
}

TEST(LoadString, UnreadableValueIsNotReportedTwice) {
  // The bad address leaves "listen" empty; "at least one listen address" would only repeat it.
  LoadResult result = load_string("listen: nowhere\nupstreams: [127.0.0.1:2]\n", "c.yaml");
  EXPECT_EQ(lines_of(result),
            (std::vector<std::string>{
                "c.yaml:1:9: listen: not an address: 'nowhere' (no port; expected host:port)"}));
}

TEST(LoadString, DuplicateListenGetsItsPosition) {
  expect_problem(only_problem("listen:\n  - 127.0.0.1:1\n  - 127.0.0.1:1\nupstreams: "
                              "[127.0.0.1:2]\n"),
                 3, 5, "listen[1]", "'127.0.0.1:1' clashes with listen[0] '127.0.0.1:1'");
}

TEST(LoadString, MoreThanOneDocument) {
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\n---\nretries: 1\n"),
                 4, 1, "", "expected one YAML document, found 2");
}

TEST(LoadString, ReportsEveryProblemInFileOrder) {
  LoadResult result = load_string(R"(listen: ["127.0.0.1:8080", "bad"]
threads: many
admin: 127.0.0.1:8080
upstreams:
  - { address: 127.0.0.1:3000, weight: 0 }
  - [oops]
balanse: round_robin
timeouts: { conect: 2s, idle: 60 }
retries: 11
)",
                                  "c.yaml");
  EXPECT_FALSE(result.config);
  EXPECT_EQ(
      lines_of(result),
      (std::vector<std::string>{
          "c.yaml:1:28: listen[1]: not an address: 'bad' (no port; expected host:port)",
          "c.yaml:2:10: threads: expected auto or a positive whole number, got 'many'",
          "c.yaml:3:8: admin: '127.0.0.1:8080' clashes with listen[0] '127.0.0.1:8080'; the "
          "admin listener needs its own port",
          "c.yaml:5:40: upstreams[0].weight: must be from 1 to 1000, got 0",
          "c.yaml:6:5: upstreams[1]: expected an address or a map with keys address, weight, tls, got "
          "a list",
          "c.yaml:7:1: balanse: unknown key; did you mean 'balance'?",
          "c.yaml:8:13: timeouts.conect: unknown key; did you mean 'connect'?",
          "c.yaml:8:31: timeouts.idle: '60' has no unit; write 60s or 60ms",
          "c.yaml:9:10: retries: must be from 0 to 10, got 11",
      }));
}

// Sets a variable for one test and restores the environment after it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(LoadString, EnvironmentSubstitution) {
  ScopedEnv port("CORRAL_TEST_PORT", "8123");
  ScopedEnv weight("CORRAL_TEST_WEIGHT", "7");
  ::unsetenv("CORRAL_TEST_HOST");
  LoadResult result = load_string(R"(listen: ${CORRAL_TEST_HOST:-127.0.0.1}:${CORRAL_TEST_PORT}
upstreams:
  - address: "127.0.0.1:3000"
    weight: ${CORRAL_TEST_WEIGHT}
threads: ${CORRAL_TEST_THREADS:-auto}
)",
                                  "c.yaml");
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  EXPECT_EQ(result.config->listen[0].address.host, "127.0.0.1");
  EXPECT_EQ(result.config->listen[0].address.port, 8123);
  EXPECT_EQ(result.config->listen[0].address.text, "127.0.0.1:8123");
  EXPECT_EQ(result.config->upstreams[0].weight, 7u);
  EXPECT_EQ(result.config->threads, 0u);
}

TEST(LoadString, UnsetEnvironmentVariableNamesIt) {
  ::unsetenv("CORRAL_TEST_UNSET");
  expect_problem(only_problem("listen: 127.0.0.1:${CORRAL_TEST_UNSET}\nupstreams: [127.0.0.1:2]\n"),
                 1, 9, "listen",
                 "environment variable 'CORRAL_TEST_UNSET' is not set (write "
                 "${CORRAL_TEST_UNSET:-default} to give a default)");
}

TEST(LoadString, SubstitutedValueIsCheckedLikeAWrittenOne) {
  ScopedEnv drain("CORRAL_TEST_DRAIN", "30");
  expect_problem(only_problem("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\n"
                              "timeouts:\n  drain: ${CORRAL_TEST_DRAIN}\n"),
                 4, 10, "timeouts.drain", "'30' has no unit; write 30s or 30ms");
}

TEST(LoadString, NeverThrows) {
  for (std::string_view text :
       {std::string_view("\t- x"), std::string_view("a: *nope"), std::string_view("{{{{"),
        std::string_view("listen: !!binary AAAA\n"), std::string_view("? [a]\n: b\n"),
        std::string_view("\0\xff\xfe", 3), std::string_view("listen: [[[]]]\nupstreams: {}\n")}) {
    LoadResult result;
    EXPECT_NO_THROW(result = load_string(text, "c.yaml"));
    EXPECT_FALSE(result.config);
    EXPECT_FALSE(result.problems.empty());
  }
}

TEST(LoadFile, ReadsAFile) {
  auto path = std::filesystem::temp_directory_path() / "corral_load_test.yaml";
  {
    std::ofstream out(path);
    out << full_file;
  }
  LoadResult result = load_file(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  EXPECT_EQ(result.config->source, path.string());
  EXPECT_EQ(result.config->upstreams.size(), 3u);
}

TEST(LoadFile, ProblemsNameTheFile) {
  auto path = std::filesystem::temp_directory_path() / "corral_load_test_bad.yaml";
  {
    std::ofstream out(path);
    out << "listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\nretries: x\n";
  }
  LoadResult result = load_file(path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(lines_of(result),
            (std::vector<std::string>{path.string() +
                                      ":3:10: retries: expected a whole number, got 'x'"}));
}

TEST(LoadFile, MissingFile) {
  LoadResult result = load_file("/nonexistent/corral.yaml");
  EXPECT_FALSE(result.config);
  EXPECT_EQ(lines_of(result),
            (std::vector<std::string>{
                "/nonexistent/corral.yaml: cannot read file: No such file or directory"}));
}

TEST(LoadFile, DirectoryIsNotReadable) {
  LoadResult result = load_file(std::filesystem::temp_directory_path().string());
  EXPECT_FALSE(result.config);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].message, "cannot read file: Is a directory");
}

}  // namespace
}  // namespace corral::config
