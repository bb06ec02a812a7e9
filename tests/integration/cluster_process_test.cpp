// Cluster mode: the master's own processes. The proxy is restarted when it dies while the
// master keeps the listeners; a config reload replaces the proxy generation; SIGTERM stops
// everything cleanly; and no worker outlives a master killed with SIGKILL.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/cluster_harness.hpp"

namespace corral::test {
namespace {

TEST(ClusterProcess, KilledProxyIsReplacedWithinASecond) {
  Cluster cluster;
  const pid_t proxy = cluster.proxy_pid();
  ASSERT_GT(proxy, 0);
  identity_of(http_get(cluster.port(), "/"));

  ASSERT_EQ(::kill(proxy, SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  // The master holds the listening socket, so connecting never fails; the request waits in
  // the backlog until the next proxy generation accepts it.
  HttpClient client(cluster.port(), 5s);
  EXPECT_FALSE(client.try_connect()) << "connection refused while the proxy was restarted";
  WorkerIdentity id = identity_of(client.get("/"));
  const auto served = std::chrono::steady_clock::now() - killed;
  EXPECT_GE(id.slot, 0);
  EXPECT_LT(served, 1500ms) << "service came back after "
                            << std::chrono::duration_cast<Millis>(served).count() << " ms";

  auto status = cluster.status().at("proxy").as_object();
  EXPECT_NE(status.at("pid").to_number<long>(), proxy);
  EXPECT_EQ(status.at("generation").to_number<int>(), 2);
  // The workers were not touched.
  for (const auto& s : cluster.slots()) EXPECT_EQ(s.at("generation").to_number<int>(), 1);
}

TEST(ClusterProcess, KilledProxyUnderLoadRefusesNoConnection) {
  Cluster cluster;
  Load load(cluster.port(), 4);
  std::this_thread::sleep_for(300ms);
  ::kill(cluster.proxy_pid(), SIGKILL);
  std::this_thread::sleep_for(1500ms);
  LoadResult result = load.stop();
  EXPECT_GT(result.ok, 50);
  // Only requests in flight on the killed proxy may fail; none may be refused.
  EXPECT_LE(result.failed, 4) << ::testing::PrintToString(result.failures);
  for (const auto& f : result.failures) EXPECT_EQ(f.find("refused"), std::string::npos) << f;
}

TEST(ClusterProcess, MasterKilledWithSigkillTakesItsWorkersAlong) {
  Cluster cluster;
  auto workers = cluster.worker_pids();
  const pid_t proxy = cluster.proxy_pid();
  cluster.master().kill();
  ASSERT_TRUE(cluster.master().wait_exit(5s));
  for (pid_t pid : workers) {
    EXPECT_TRUE(eventually([&] { return process_gone(pid); }, 5s))
        << "worker " << pid << " survived";
  }
  EXPECT_TRUE(eventually([&] { return process_gone(proxy); }, 10s)) << "proxy survived";
  // Its control socket file is left behind: the CLI says it is stale.
  RunResult status = cluster.cli({"status"}, 10s);
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.err.find("is stale: the master that made it is gone"), std::string::npos)
      << status.err;
}

TEST(ClusterProcess, SigtermStopsEverythingAndExitsZero) {
  Cluster cluster;
  auto workers = cluster.worker_pids();
  const pid_t proxy = cluster.proxy_pid();
  cluster.master().terminate();
  auto code = cluster.master().wait_exit(15s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  for (pid_t pid : workers) EXPECT_TRUE(process_gone(pid));
  EXPECT_TRUE(process_gone(proxy));
  EXPECT_TRUE(
      cluster.master().has_line(std::regex("worker pid " + std::to_string(workers[0]) +
                                           R"( \(generation 1\) stopped \(exit code 0\))")));
  HttpClient client(cluster.port(), 1s);
  EXPECT_TRUE(client.try_connect()) << "still accepting after stop";
}

TEST(ClusterProcess, StopCommandWaitsForTheMasterToExit) {
  Cluster cluster;
  auto workers = cluster.worker_pids();
  RunResult r = cluster.cli({"stop"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stopped"), std::string::npos) << r.out;
  auto code = cluster.master().wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  for (pid_t pid : workers) EXPECT_TRUE(eventually([&] { return process_gone(pid); }, 2s));
}

TEST(ClusterProcess, ReloadWithABadConfigChangesNothing) {
  ClusterConfig config;
  Cluster cluster(config);
  const pid_t proxy = cluster.proxy_pid();
  auto workers = cluster.worker_pids();
  cluster.rewrite_config(config.render() + "balance: sideways\nhealth: { interval: 5 }\n");
  RunResult r = cluster.cli({"reload", "--config"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("2 problem(s) in the new config; nothing changed"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("balance: unknown balance 'sideways'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("health.interval: '5' has no unit"), std::string::npos) << r.err;
  EXPECT_EQ(cluster.proxy_pid(), proxy);
  EXPECT_EQ(cluster.worker_pids(), workers);
  identity_of(http_get(cluster.port(), "/"));
}

TEST(ClusterProcess, ReloadConfigStartsANewProxyGenerationWithoutFailingRequests) {
  ClusterConfig config;
  Cluster cluster(config);
  const pid_t proxy = cluster.proxy_pid();
  auto workers = cluster.worker_pids();
  // Only proxy settings change: the workers stay.
  config.retries = "3";
  cluster.rewrite_config(config.render());
  Load load(cluster.port(), 4);
  std::this_thread::sleep_for(300ms);
  RunResult r = cluster.cli({"reload", "--config"});
  std::this_thread::sleep_for(300ms);
  LoadResult result = load.stop();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("proxy generation 2"), std::string::npos) << r.out;
  // The final line once, not also as a progress line before it.
  auto said = [&](const std::string& text) {
    std::size_t n = 0;
    for (auto at = r.out.find(text); at != std::string::npos; at = r.out.find(text, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(said("config reloaded: proxy generation 2"), 1u) << r.out;
  EXPECT_EQ(result.failed, 0) << ::testing::PrintToString(result.failures);
  EXPECT_NE(cluster.proxy_pid(), proxy);
  EXPECT_EQ(cluster.worker_pids(), workers);
  EXPECT_TRUE(eventually([&] { return process_gone(proxy); }, 10s)) << "old proxy still running";

  // SIGHUP does the same; a changed worker env rolls the workers.
  config.env["SOMETHING"] = "new";
  cluster.rewrite_config(config.render());
  cluster.master().signal(SIGHUP);
  cluster.master().wait_for_line(std::regex("config reloaded: proxy generation 3 .*rolling restart "
                                            "done: 2 worker\\(s\\) replaced"),
                                 30s);
  for (const auto& s : cluster.slots()) EXPECT_EQ(s.at("generation").to_number<int>(), 2);
}

TEST(ClusterProcess, ReloadCanChangeTheWorkerCount) {
  ClusterConfig config;
  Cluster cluster(config);
  config.count = 3;
  cluster.rewrite_config(config.render());
  RunResult grow = cluster.cli({"reload", "--config"});
  EXPECT_EQ(grow.exit_code, 0) << grow.out << grow.err;
  ASSERT_TRUE(cluster.wait_slots(
      [](const auto& s) { return s.size() == 3 && s[2].at("state").as_string() == "ready"; }, 10s));
  std::set<int> slots;
  HttpClient client(cluster.port());
  for (int i = 0; i < 30 && slots.size() < 3; ++i) slots.insert(identity_of(client.get("/")).slot);
  EXPECT_EQ(slots, (std::set<int>{0, 1, 2}));

  config.count = 1;
  cluster.rewrite_config(config.render());
  RunResult shrink = cluster.cli({"reload", "--config"});
  EXPECT_EQ(shrink.exit_code, 0) << shrink.out << shrink.err;
  EXPECT_EQ(cluster.slots().size(), 1u);
  EXPECT_EQ(cluster.status().at("workers").as_array().size(), 1u);
  // A new connection: the old proxy generation closed its idle ones when it drained.
  HttpClient after(cluster.port());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(identity_of(after.get("/")).slot, 0);
}

}  // namespace
}  // namespace corral::test
