// Cluster mode basics: the master starts the workers in slots, the proxy routes to them, and
// the CLI talks to the master over its control socket (status, broadcast, send).
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/cluster_harness.hpp"

namespace corral::test {
namespace {

TEST(Cluster, RequestsAreServedByEverySlot) {
  Cluster cluster;
  std::set<int> slots;
  std::set<pid_t> pids;
  HttpClient client(cluster.port());
  for (int i = 0; i < 20; ++i) {
    WorkerIdentity id = identity_of(client.get("/"));
    slots.insert(id.slot);
    pids.insert(id.pid);
    EXPECT_EQ(id.generation, 1);
  }
  EXPECT_EQ(slots, (std::set<int>{0, 1}));
  EXPECT_EQ(pids.size(), 2u);
}

TEST(Cluster, StatusListsEverySlot) {
  Cluster cluster;
  auto status = cluster.status();
  auto slots = status.at("slots").as_array();
  ASSERT_EQ(slots.size(), 2u);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const auto& s = slots[i].as_object();
    EXPECT_EQ(s.at("slot").to_number<int>(), static_cast<int>(i));
    EXPECT_GT(s.at("pid").to_number<long>(), 0);
    EXPECT_EQ(s.at("state").as_string(), "ready");
    EXPECT_EQ(s.at("generation").to_number<int>(), 1);
    EXPECT_EQ(s.at("restarts").to_number<int>(), 0);
    EXPECT_GT(s.at("rss_bytes").to_number<long>(), 0);
  }
  EXPECT_EQ(status.at("master").as_object().at("pid").to_number<long>(), cluster.master().pid());
  EXPECT_GT(cluster.proxy_pid(), 0);

  // The proxy's per-slot counts arrive with its stats, once a second.
  HttpClient client(cluster.port());
  for (int i = 0; i < 10; ++i) identity_of(client.get("/"));
  EXPECT_TRUE(cluster.wait_slots(
      [](const auto& s) {
        return s[0].at("requests").template to_number<long>() +
                   s[1].at("requests").template to_number<long>() >=
               10;
      },
      5s));

  RunResult table = cluster.cli({"status"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("slot  pid"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("ready"), std::string::npos) << table.out;
}

TEST(Cluster, BroadcastReachesEveryWorkerAndTheirRepliesReachTheMaster) {
  Cluster cluster;
  auto pids = cluster.worker_pids();
  RunResult r = cluster.cli({"broadcast", R"({"usersCount":25})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("delivered to 2 worker(s)"), std::string::npos) << r.out;
  for (int slot = 0; slot < 2; ++slot) {
    const std::string prefix =
        "\\[slot " + std::to_string(slot) + " pid " + std::to_string(pids[slot]) + "\\] ";
    // process.on('message') in the worker got it...
    EXPECT_TRUE(eventually(
        [&] {
          return cluster.master().has_line(std::regex(prefix + R"(message \{"usersCount":25\})"));
        },
        5s))
        << "slot " << slot;
  }
  for (int slot = 0; slot < 2; ++slot) {
    // ...and its process.send() reached the master.
    EXPECT_TRUE(eventually(
        [&] {
          return cluster.master().has_line(std::regex(
              "\\[slot " + std::to_string(slot) + " pid " + std::to_string(pids[slot]) +
              R"(\] message: \{"echo":\{"usersCount":25\},"slot":)" + std::to_string(slot)));
        },
        5s));
  }
}

TEST(Cluster, SendReachesOneSlotAndAWorkerCanBroadcastToTheOthers) {
  ClusterConfig config;
  config.count = 3;
  Cluster cluster(config);
  auto pids = cluster.worker_pids();
  // worker.js turns {"relay": X} into {"corral":"broadcast","data":X}.
  RunResult r = cluster.cli({"send", "1", R"({"relay":{"invalidate":"user:7"}})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("delivered to slot 1"), std::string::npos) << r.out;
  for (int slot : {0, 2}) {
    const std::regex got("\\[slot " + std::to_string(slot) + " pid " + std::to_string(pids[slot]) +
                         R"(\] message \{"invalidate":"user:7"\})");
    EXPECT_TRUE(eventually([&] { return cluster.master().has_line(got); }, 5s)) << "slot " << slot;
  }
  // The sender does not get its own broadcast back.
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(cluster.master().has_line(
      std::regex("\\[slot 1 pid " + std::to_string(pids[1]) + R"(\] message \{"invalidate")")));

  RunResult bad_slot = cluster.cli({"send", "7", "{}"});
  EXPECT_EQ(bad_slot.exit_code, 1);
  EXPECT_NE(bad_slot.err.find("no slot 7"), std::string::npos) << bad_slot.err;
  RunResult bad_json = cluster.cli({"broadcast", "{usersCount:25}"});
  EXPECT_EQ(bad_json.exit_code, 2);
  EXPECT_NE(bad_json.err.find("not JSON"), std::string::npos) << bad_json.err;
}

TEST(Cluster, AWorkerThatDoesNotReadItsChannelNeverBlocksTheMaster) {
  Cluster cluster;
  // The worker reads nothing until the test says so (a file), however slowly the broadcasts go.
  TempDir dir;
  const auto go_on = dir.path() / "go-on";
  ASSERT_EQ(cluster
                .cli({"send", "0",
                      R"({"spin":60000,"until_file":")" + go_on.string() + R"("})"})
                .exit_code,
            0);
  // 40 messages of 100 KB: more than the socket buffers and the master's 1 MiB queue hold for
  // a worker that reads nothing meanwhile.
  const std::string blob = R"({"blob":")" + std::string(100 * 1024, 'x') + R"("})";
  long dropped = 0;
  for (int i = 0; i < 40; ++i) {
    const auto start = std::chrono::steady_clock::now();
    RunResult r = cluster.cli({"broadcast", blob}, 5s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "the master waited for the worker";
    if (r.out.find("dropped by 1") != std::string::npos) ++dropped;
  }
  EXPECT_GT(dropped, 0) << "nothing was dropped: the worker's queue is not bounded";
  auto slots = cluster.slots();
  EXPECT_GT(slots[0].at("dropped_messages").to_number<long>(), 0);
  EXPECT_EQ(slots[1].at("dropped_messages").to_number<long>(), 0);
  // The busy worker catches up with what was queued and keeps working.
  dir.write("go-on", "");
  cluster.master().wait_for_line(std::regex(R"(\[slot 0 pid \d+\] spun)"), 15s);
  ASSERT_EQ(cluster.cli({"broadcast", R"({"after":"spin"})"}).exit_code, 0);
  cluster.master().wait_for_line(std::regex(R"(\[slot 0 pid \d+\] message \{"after":"spin"\})"),
                                 10s);
}

TEST(Cluster, ReadyByMessage) {
  ClusterConfig config;
  config.ready_when = "message";
  config.env["READY_MESSAGE"] = "1";
  Cluster cluster(config);
  for (const auto& s : cluster.slots()) EXPECT_EQ(s.at("state").as_string(), "ready");
  EXPECT_EQ(identity_of(http_get(cluster.port(), "/")).generation, 1);
}

TEST(Cluster, CommandsWithoutAMasterSaySoAndFail) {
  TempDir dir;
  auto path = dir.write("corral.yaml", "listen: 127.0.0.1:0\nupstreams: [127.0.0.1:9]\n");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"status"}, {"reload"}, {"broadcast", "{}"}, {"stop"}}) {
    args.insert(args.begin(), CORRAL_BINARY);
    args.push_back("-c");
    args.push_back(path.string());
    RunResult r = run_command(args, 10s);
    EXPECT_EQ(r.exit_code, 1) << args[1];
    EXPECT_NE(r.err.find("no corral master is running for"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace corral::test
