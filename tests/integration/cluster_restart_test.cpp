// Cluster mode: crashed workers are replaced in their slot, rolling restarts replace every
// worker without a failed request, and a rollout whose new worker never gets ready is aborted
// with the old workers still serving.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <set>

#include "tests/integration/cluster_harness.hpp"

namespace corral::test {
namespace {

TEST(ClusterRestart, KilledWorkerIsReplacedInItsSlotWithTheNextGeneration) {
  Cluster cluster;
  auto before = cluster.worker_pids();
  ASSERT_EQ(::kill(before[0], SIGKILL), 0);
  ASSERT_TRUE(cluster.wait_slots(
      [&](const auto& s) {
        return s[0].at("state").as_string() == "ready" &&
               s[0].at("pid").template to_number<long>() != before[0] &&
               s[0].at("pid").template to_number<long>() != 0;
      },
      10s))
      << boost::json::serialize(cluster.status());
  auto slots = cluster.slots();
  EXPECT_EQ(slots[0].at("generation").to_number<int>(), 2);
  EXPECT_EQ(slots[0].at("restarts").to_number<int>(), 1);
  EXPECT_EQ(slots[0].at("last_exit").as_string(), "killed by SIGKILL");
  EXPECT_EQ(slots[1].at("pid").to_number<long>(), before[1]);  // the other slot untouched
  EXPECT_EQ(slots[1].at("generation").to_number<int>(), 1);
  EXPECT_TRUE(process_gone(before[0]));

  std::set<int> generations;
  HttpClient client(cluster.port());
  for (int i = 0; i < 10; ++i) {
    WorkerIdentity id = identity_of(client.get("/"));
    if (id.slot == 0) generations.insert(id.generation);
  }
  EXPECT_EQ(generations, (std::set<int>{2}));
  cluster.master().wait_for_line(std::regex("slot 0: worker pid " + std::to_string(before[0]) +
                                            R"( \(generation 1\) exited unexpectedly)"),
                                 1s);
}

TEST(ClusterRestart, RollingRestartUnderLoadFailsNoRequest) {
  Cluster cluster;
  auto before = cluster.worker_pids();
  Load load(cluster.port(), 4);
  std::this_thread::sleep_for(300ms);  // load is flowing before the rollout starts
  RunResult r = cluster.cli({"reload"});
  std::this_thread::sleep_for(300ms);  // and after it ends
  LoadResult result = load.stop();

  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("rolling restart done: 2 worker(s) replaced"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("slot 0: starting a replacement"), std::string::npos) << r.out;
  EXPECT_EQ(result.failed, 0) << ::testing::PrintToString(result.failures);
  EXPECT_GT(result.ok, 50);
  auto slots = cluster.slots();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(slots[i].at("generation").to_number<int>(), 2);
    EXPECT_EQ(slots[i].at("state").as_string(), "ready");
    EXPECT_NE(slots[i].at("pid").to_number<long>(), before[i]);
    EXPECT_TRUE(eventually([&] { return process_gone(before[i]); }, 5s));
  }
  // Old workers stop only after they leave the proxy's selection, and they stop cleanly.
  EXPECT_TRUE(cluster.master().has_line(std::regex(
      "slot 0: worker pid " + std::to_string(before[0]) + R"( .*stopped \(exit code 0\))")));
}

TEST(ClusterRestart, Sigusr2DoesARollingRestart) {
  Cluster cluster;
  auto before = cluster.worker_pids();
  cluster.master().signal(SIGUSR2);
  cluster.master().wait_for_line(std::regex("rolling restart done: 2 worker\\(s\\) replaced"), 20s);
  auto after = cluster.worker_pids();
  EXPECT_NE(after[0], before[0]);
  EXPECT_NE(after[1], before[1]);
}

TEST(ClusterRestart, RestartOneSlot) {
  Cluster cluster;
  auto before = cluster.worker_pids();
  RunResult r = cluster.cli({"restart", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto slots = cluster.slots();
  EXPECT_EQ(slots[0].at("pid").to_number<long>(), before[0]);
  EXPECT_NE(slots[1].at("pid").to_number<long>(), before[1]);
  EXPECT_EQ(slots[1].at("generation").to_number<int>(), 2);
  RunResult bad = cluster.cli({"restart", "5"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("no slot 5: slots are 0 to 1"), std::string::npos) << bad.err;
}

TEST(ClusterRestart, ReplacementThatNeverGetsReadyAbortsTheRollout) {
  ClusterConfig config;
  config.ready_timeout = "1500ms";
  // worker.js does not listen when this file exists at its start; it does not exist yet for the
  // first workers, and does for their replacements.
  TempDir flag_dir;
  const auto hang = flag_dir.path() / "hang";
  config.env["HANG_IF_FILE"] = hang.string();
  Cluster cluster(config);
  auto before = cluster.worker_pids();
  std::ofstream(hang) << "x";

  Load load(cluster.port(), 2);
  RunResult r = cluster.cli({"reload"});
  LoadResult result = load.stop();

  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rolling restart aborted: slot 0: the replacement worker pid"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("was not up within 1500 ms"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the old workers keep serving"), std::string::npos) << r.err;
  EXPECT_EQ(result.failed, 0) << ::testing::PrintToString(result.failures);

  auto slots = cluster.slots();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(slots[i].at("pid").to_number<long>(), before[i]);
    EXPECT_EQ(slots[i].at("generation").to_number<int>(), 1);
    EXPECT_EQ(slots[i].at("state").as_string(), "ready");
  }
  // The replacement was killed: only the two old workers are left.
  EXPECT_EQ(cluster.status().at("workers").as_array().size(), 2u);
  std::set<pid_t> answered;
  HttpClient client(cluster.port());
  for (int i = 0; i < 10; ++i) answered.insert(identity_of(client.get("/")).pid);
  EXPECT_EQ(answered, (std::set<pid_t>{before[0], before[1]}));
}

TEST(ClusterRestart, ASecondRolloutIsRefusedWhileOneRuns) {
  ClusterConfig config;
  config.stop_timeout = "10s";
  config.env["SLOW_STOP_MS"] = "1500";  // each old worker takes 1.5 s to stop
  Cluster cluster(config);
  auto first = std::async(std::launch::async, [&] { return cluster.cli({"reload"}); });
  cluster.master().wait_for_line(std::regex("rolling restart: slot 0: starting a replacement"),
                                 10s);
  RunResult second = cluster.cli({"reload"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("refused: a rolling restart requested by corral reload"),
            std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find("is still running"), std::string::npos) << second.err;
  RunResult done = first.get();
  EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
}

TEST(ClusterRestart, CrashLoopMarksTheSlotErrored) {
  ClusterConfig config;
  config.count = 1;
  config.env["CRASH_AFTER_MS"] = "50";
  config.crash_loop = 3;
  config.backoff = "20ms";
  config.max_backoff = "2s";
  config.reset_after = "10s";
  // A worker that crashes before its port is probed never counts as up: the master's ready
  // line comes once the slot has errored.
  Cluster cluster(config);
  cluster.master().wait_for_line(std::regex("slot 0: errored: 3 failures in a row"), 10s);
  auto slots = cluster.slots();
  EXPECT_EQ(slots[0].at("state").as_string(), "errored");
  EXPECT_GE(slots[0].at("crashes_in_a_row").to_number<int>(), 3);
  RunResult table = cluster.cli({"status"});
  EXPECT_NE(table.out.find("errored"), std::string::npos) << table.out;
  // Retried at max_backoff, not faster.
  auto restarts = slots[0].at("restarts").to_number<int>();
  std::this_thread::sleep_for(1s);
  EXPECT_LE(cluster.slots()[0].at("restarts").to_number<int>(), restarts + 1);
}

TEST(ClusterRestart, RandomCrashesUnderLoadFailNoRequest) {
  ClusterConfig config;
  config.count = 3;
  config.env["CRASH_RANDOM_MS"] = "3000";  // each worker exits after a random 0..3 s
  config.reset_after = "100ms";
  config.crash_loop = 100;
  Cluster cluster(config);
  Load load(cluster.port(), 4);
  std::this_thread::sleep_for(6s);
  LoadResult result = load.stop();
  auto slots = cluster.slots();
  int restarts = 0;
  for (const auto& s : slots) restarts += s.at("restarts").to_number<int>();
  EXPECT_GE(restarts, 3) << "the workers were meant to crash";
  EXPECT_GT(result.ok, 100);
  EXPECT_EQ(result.failed, 0) << result.failed << " of " << result.ok + result.failed
                              << " failed: " << ::testing::PrintToString(result.failures);
}

}  // namespace
}  // namespace corral::test
