// A proxy that cannot start: `corral run` stops with its reason instead of starting it again
// and again; a reload to such a config keeps the running generation; and while the proxy
// crashes again and again, the master answers on the listeners with 503 instead of leaving
// connections waiting.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/integration/cluster_harness.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;

// An access log path that the preflight checks let through (its folder exists) but that no
// proxy can open: a file name longer than any file system allows.
std::string unopenable_log(const TempDir& dir) {
  return (dir.path() / (std::string(300, 'x') + ".log")).string();
}

std::string with_access_log(std::string yaml, const std::string& log) {
  const std::string off = "access_log: off\n";
  auto at = yaml.find(off);
  if (at == std::string::npos) throw HarnessError("no access_log: off in the config");
  return yaml.replace(at, off.size(), "access_log: \"" + log + "\"\n");
}

TEST(ProxyStartup, RunStopsWithTheReasonWhenTheProxyCannotStart) {
  TempDir dir;
  auto file = dir.write("c.yaml",
                        "listen: [\"127.0.0.1:0\"]\n"
                        "admin: 127.0.0.1:0\n"
                        "upstreams: [{ address: 127.0.0.1:3000 }]\n"
                        "access_log: \"" +
                            unopenable_log(dir) + "\"\n");
  Process corral({CORRAL_BINARY, "run", "-c", file.string()});
  auto code = corral.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "corral run kept restarting the proxy:\n" << corral.tail();
  EXPECT_EQ(*code, 2) << corral.tail();
  EXPECT_TRUE(corral.has_line(std::regex("the proxy cannot start: cannot open access log")))
      << corral.tail();
  EXPECT_FALSE(corral.has_line(std::regex("proxy generation 2 started"))) << corral.tail();
}

TEST(ProxyStartup, ReloadToAConfigWhoseAccessLogFolderIsMissingChangesNothing) {
  ClusterConfig cfg;
  cfg.count = 1;
  Cluster cluster(cfg);
  const pid_t proxy = cluster.proxy_pid();
  const std::string missing = (cluster.dir() / "no-such-folder" / "access.log").string();
  cluster.rewrite_config(with_access_log(cfg.render(), missing));
  RunResult r = cluster.cli({"reload", "--config"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(std::regex_search(
      r.err,
      std::regex(R"(corral\.yaml:\d+:\d+: access_log: cannot open access log .*does not exist)")))
      << r.err;
  EXPECT_NE(r.err.find("nothing changed"), std::string::npos) << r.err;
  EXPECT_EQ(cluster.proxy_pid(), proxy);
  EXPECT_EQ(identity_of(http_get(cluster.port(), "/")).slot, 0);
}

TEST(ProxyStartup, ReloadToAProxyThatCannotStartKeepsTheRunningGeneration) {
  ClusterConfig cfg;
  cfg.count = 1;
  Cluster cluster(cfg);
  const pid_t proxy = cluster.proxy_pid();
  TempDir logs;
  cluster.rewrite_config(with_access_log(cfg.render(), unopenable_log(logs)));
  RunResult r = cluster.cli({"reload", "--config"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("exited before it accepted connections: cannot open access log"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(cluster.proxy_pid(), proxy);
  EXPECT_EQ(identity_of(http_get(cluster.port(), "/")).slot, 0);
  EXPECT_TRUE(cluster.master().running());
}

TEST(ProxyStartup, MasterAnswers503WhileTheProxyCrashesAgainAndAgain) {
  ClusterConfig cfg;
  cfg.count = 1;
  Cluster cluster(cfg);
  auto proxy_state = [&] {
    json::object p = cluster.status().at("proxy").as_object();
    return std::pair(static_cast<pid_t>(p.at("pid").to_number<long>()),
                     std::string(p.at("state").as_string()));
  };
  pid_t proxy = cluster.proxy_pid();
  // Three quick deaths: each proxy is started again, the later ones after a growing delay.
  for (int i = 0; i < 3; ++i) {
    ::kill(proxy, SIGKILL);
    ASSERT_TRUE(eventually(
        [&] {
          auto [pid, state] = proxy_state();
          return pid != 0 && pid != proxy && state == "ready";
        },
        5s));
    proxy = proxy_state().first;
  }
  // The fourth in a row: the next proxy starts 400 ms later; meanwhile the master answers.
  ::kill(proxy, SIGKILL);
  ASSERT_TRUE(eventually([&] { return process_gone(proxy); }, 2s));
  auto response = http_get(cluster.port(), "/", 3s);
  EXPECT_EQ(response.result_int(), 503) << response.body();
  EXPECT_NE(response.body().find("no proxy is running"), std::string::npos) << response.body();
  auto ready = http_get(cluster.admin_port(), "/readyz", 3s);
  EXPECT_EQ(ready.result_int(), 503) << ready.body();
  // And the proxy that follows serves again.
  EXPECT_TRUE(
      eventually([&] { return http_get(cluster.port(), "/", 3s).result_int() == 200; }, 5s));
}

TEST(ProxyStartup, AProxyThatServedAndThenCannotStartKeepsCorralUpAnswering503) {
  ClusterConfig cfg;
  cfg.count = 1;
  Cluster cluster(cfg);
  TempDir logs;
  const auto folder = logs.path() / "logs";
  std::filesystem::create_directories(folder);
  cluster.rewrite_config(with_access_log(cfg.render(), (folder / "access.log").string()));
  RunResult reload = cluster.cli({"reload", "--config"});
  ASSERT_EQ(reload.exit_code, 0) << reload.err;
  // The folder goes away under the running proxy, which then dies: the next one cannot start.
  std::filesystem::remove_all(folder);
  ::kill(cluster.proxy_pid(), SIGKILL);
  cluster.master().wait_for_line(std::regex("the proxy cannot start: .*; trying again"), 5s);
  EXPECT_TRUE(eventually(
      [&] {
        auto res = http_get(cluster.port(), "/", 3s);
        return res.result_int() == 503 &&
               res.body().find("no proxy is running") != std::string::npos;
      },
      5s));
  EXPECT_TRUE(cluster.master().running());
  EXPECT_TRUE(eventually(
      [&] {
        auto proxy = cluster.status().at("proxy").as_object();
        auto* last = proxy.if_contains("last_exit");
        return last && std::string(last->as_string()).starts_with("cannot open access log");
      },
      5s));
  // The folder is back: so is the proxy, and the worker never stopped.
  std::filesystem::create_directories(folder);
  EXPECT_TRUE(
      eventually([&] { return http_get(cluster.port(), "/", 3s).result_int() == 200; }, 5s));
  EXPECT_EQ(cluster.slots().at(0).at("generation").to_number<int>(), 1);
}

}  // namespace
}  // namespace corral::test
