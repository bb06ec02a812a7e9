// The workers: section, loaded from YAML and validated.
#include <gtest/gtest.h>

#include <csignal>

#include "config/load.hpp"

namespace corral::config {
namespace {

using Words = std::vector<std::string>;

std::vector<std::string> lines_of(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const Problem& problem : result.problems) lines.push_back(problem.to_string());
  return lines;
}

LoadResult load(std::string_view workers_section) {
  return load_string("listen: 127.0.0.1:8080\n" + std::string(workers_section), "c.yaml");
}

Workers loaded_workers(const LoadResult& result) {
  EXPECT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  if (!result.config || !result.config->workers) return {};
  return *result.config->workers;
}

TEST(Workers, FullSection) {
  LoadResult result = load(R"(workers:
  command: ["node", "server.js"]
  count: 4
  cwd: ./app
  env: { NODE_ENV: production, EMPTY: "", N: 3 }
  port_base: 4000
  ready: { when: message, timeout: 5s }
  stop: { signal: SIGINT, timeout: 3s }
  restart: { backoff: 50ms, max_backoff: 2s, reset_after: 10s, crash_loop: 3 }
)");
  const Workers w = loaded_workers(result);
  EXPECT_EQ(w.command, (Words{"node", "server.js"}));
  EXPECT_EQ(w.count, 4u);
  EXPECT_EQ(w.cwd, "./app");
  EXPECT_EQ(w.env, (std::vector<std::pair<std::string, std::string>>{
                       {"NODE_ENV", "production"}, {"EMPTY", ""}, {"N", "3"}}));
  EXPECT_EQ(w.port_base, 4000);
  EXPECT_EQ(w.ready.when, ReadyWhen::message);
  EXPECT_EQ(w.ready.timeout, Duration(5000));
  EXPECT_EQ(w.stop.signal, "SIGINT");
  EXPECT_EQ(w.stop.signal_number, SIGINT);
  EXPECT_EQ(w.stop.timeout, Duration(3000));
  EXPECT_EQ(w.restart.backoff, Duration(50));
  EXPECT_EQ(w.restart.max_backoff, Duration(2000));
  EXPECT_EQ(w.restart.reset_after, Duration(10000));
  EXPECT_EQ(w.restart.crash_loop, 3u);
  EXPECT_TRUE(result.config->upstreams.empty());
}

TEST(Workers, Defaults) {
  const Workers w = loaded_workers(load("workers: { command: node server.js }\n"));
  EXPECT_EQ(w.command, (Words{"node", "server.js"}));
  EXPECT_EQ(w.count, 0u);  // max
  EXPECT_EQ(w.cwd, "");
  EXPECT_TRUE(w.env.empty());
  EXPECT_EQ(w.port_base, 0);
  EXPECT_EQ(w.ready.when, ReadyWhen::port);
  EXPECT_EQ(w.ready.timeout, Duration(30000));
  EXPECT_EQ(w.stop.signal, "SIGTERM");
  EXPECT_EQ(w.stop.timeout, Duration(10000));
  EXPECT_EQ(w.restart.backoff, Duration(100));
  EXPECT_EQ(w.restart.max_backoff, Duration(15000));
  EXPECT_EQ(w.restart.reset_after, Duration(30000));
  EXPECT_EQ(w.restart.min_uptime, Duration(1000));
  EXPECT_EQ(w.restart.crash_loop, 5u);
  EXPECT_TRUE(w.max_in_flight.adaptive);
}

TEST(Workers, MaxInFlightAutoOrANumber) {
  EXPECT_TRUE(loaded_workers(load("workers: { command: app, max_in_flight: auto }\n")).max_in_flight.adaptive);
  const Workers w = loaded_workers(load("workers: { command: app, max_in_flight: 4, restart: { min_uptime: 3s } }\n"));
  EXPECT_FALSE(w.max_in_flight.adaptive);
  EXPECT_EQ(w.max_in_flight.fixed, 4u);
  EXPECT_EQ(w.restart.min_uptime, Duration(3000));
  EXPECT_EQ(lines_of(load("workers: { command: app, max_in_flight: 0 }\n")),
            (std::vector<std::string>{"c.yaml:2:41: workers.max_in_flight: must be at least 1 (or auto)"}));
  EXPECT_EQ(lines_of(load("workers: { command: app, max_in_flight: lots }\n")),
            (std::vector<std::string>{"c.yaml:2:41: workers.max_in_flight: expected a whole number, got 'lots'"}));
}

TEST(Workers, QueueTimeoutAndLength) {
  LoadResult r = load("timeouts: { queue: 2s }\nlimits: { max_queue: 50 }\nworkers: { command: app }\n");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(lines_of(r));
  EXPECT_EQ(r.config->timeouts.queue, Duration(2000));
  EXPECT_EQ(r.config->limits.max_queue, 50u);
  LoadResult defaults = load("workers: { command: app }\n");
  ASSERT_TRUE(defaults.config);
  EXPECT_EQ(defaults.config->timeouts.queue, Duration(10000));
  EXPECT_EQ(defaults.config->limits.max_queue, 10000u);
  EXPECT_EQ(lines_of(load("limits: { max_queue: 0 }\nworkers: { command: app }\n")),
            (std::vector<std::string>{"c.yaml:2:22: limits.max_queue: must be at least 1"}));
}

TEST(Workers, CommandStringIsSplitLikeAShell) {
  const Workers w =
      loaded_workers(load("workers:\n  command: \"gunicorn 'app:create()' -b \\\"x y\\\"\"\n"));
  EXPECT_EQ(w.command, (Words{"gunicorn", "app:create()", "-b", "x y"}));
}

TEST(Workers, CountMax) {
  EXPECT_EQ(loaded_workers(load("workers: { command: app, count: max }\n")).count, 0u);
}

TEST(Workers, EnvSubstitutionInCommandAndEnv) {
  ::setenv("CORRAL_TEST_APP", "/srv/app.js", 1);
  const Workers w =
      loaded_workers(load("workers:\n  command: [node, \"${CORRAL_TEST_APP}\"]\n  env: { A: "
                          "\"${CORRAL_TEST_APP}\" }\n"));
  EXPECT_EQ(w.command, (Words{"node", "/srv/app.js"}));
  ASSERT_EQ(w.env.size(), 1u);
  EXPECT_EQ(w.env[0].second, "/srv/app.js");
}

TEST(Workers, WorkersAndUpstreamsTogetherIsAnError) {
  LoadResult result = load_string(
      "listen: 127.0.0.1:8080\nupstreams: [127.0.0.1:3000]\nworkers: { command: app }\n", "c.yaml");
  EXPECT_EQ(lines_of(result),
            (std::vector<std::string>{
                "c.yaml:3:10: workers: workers and upstreams cannot both be set: workers are "
                "processes corral starts, upstreams are services it fronts; keep one of them"}));
}

TEST(Workers, NeitherIsAnError) {
  LoadResult result = load_string("listen: 127.0.0.1:8080\n", "c.yaml");
  EXPECT_EQ(lines_of(result),
            (std::vector<std::string>{
                "c.yaml: upstreams: at least one upstream is required (or a workers: section)"}));
}

TEST(Workers, MissingCommand) {
  EXPECT_EQ(lines_of(load("workers: { count: 2 }\n")),
            (std::vector<std::string>{
                "c.yaml:2:10: workers.command: a command is required, e.g. [node, server.js]"}));
  EXPECT_EQ(lines_of(load("workers:\n")),
            (std::vector<std::string>{
                "c.yaml:2:1: workers.command: a command is required, e.g. [node, server.js]"}));
}

TEST(Workers, BadValuesAreEachReported) {
  LoadResult result = load(R"(workers:
  command: "node a.js | tee"
  count: none
  port_base: 70000
  ready: { when: listening, timeout: 5 }
  stop: { signal: SIGSEGV }
  restart: { crash_loop: 0, max_backoff: 10ms }
  env: { PORT: "1", 1X: a }
  colour: blue
)");
  EXPECT_EQ(
      lines_of(result),
      (std::vector<std::string>{
          "c.yaml:3:12: workers.command: '|' needs a shell, which corral does not run; quote it, "
          "or write the command as [\"sh\", \"-c\", \"...\"]",
          "c.yaml:4:10: workers.count: expected max or a positive whole number, got 'none'",
          "c.yaml:5:14: workers.port_base: expected a port 0..65535, got 70000",
          "c.yaml:6:18: workers.ready.when: unknown value 'listening' (expected port: accepts "
          "TCP, or message: sends {\"ready\":true})",
          "c.yaml:6:38: workers.ready.timeout: '5' has no unit; write 5s or 5ms",
          "c.yaml:7:19: workers.stop.signal: unknown signal 'SIGSEGV' (expected SIGTERM, SIGINT, "
          "SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 or SIGKILL)",
          "c.yaml:8:26: workers.restart.crash_loop: must be at least 1",
          "c.yaml:8:42: workers.restart.max_backoff: must be at least workers.restart.backoff",
          "c.yaml:9:16: workers.env.PORT: set by corral for each worker; it cannot be given here",
          "c.yaml:9:21: workers.env.1X: not a variable name (letters, digits and _, not "
          "starting with a digit)",
          "c.yaml:10:3: workers.colour: unknown key (known keys: command, count, cwd, env, "
          "port_base, ready, stop, restart, max_in_flight)"}));
}

TEST(Workers, ReadyWhenSuggestion) {
  EXPECT_EQ(
      lines_of(load("workers: { command: app, ready: { when: mesage } }\n")),
      (std::vector<std::string>{
          "c.yaml:2:41: workers.ready.when: unknown value 'mesage'; did you mean 'message'?"}));
}

TEST(Workers, CommandWordsMustBeText) {
  EXPECT_EQ(lines_of(load("workers:\n  command: [node, [a]]\n")),
            (std::vector<std::string>{
                "c.yaml:3:19: workers.command[1]: expected a word of the command, got a list"}));
}

TEST(Workers, PortRangeMustFitAndAvoidCorralsOwnPorts) {
  EXPECT_EQ(lines_of(load("workers: { command: app, count: 3, port_base: 65534 }\n")),
            (std::vector<std::string>{
                "c.yaml:2:47: workers.port_base: slots 65534..65536 go past port 65535"}));
  EXPECT_EQ(lines_of(load_string("listen: 127.0.0.1:4001\nworkers: { command: app, count: 2, "
                                 "port_base: 4000 }\n",
                                 "c.yaml")),
            (std::vector<std::string>{"c.yaml:2:47: workers.port_base: worker ports 4000..4001 "
                                      "include listen[0] '127.0.0.1:4001'"}));
  EXPECT_TRUE(
      loaded_workers(load("workers: { command: app, count: max, port_base: 4000 }\n")).port_base ==
      4000);
}

}  // namespace
}  // namespace corral::config
