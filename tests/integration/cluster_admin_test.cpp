// The admin HTTP commands of cluster mode: /admin/status, /admin/reload, /admin/restart/{slot},
// /admin/broadcast and /admin/send/{slot}, relayed by the proxy to the master and answered with
// the master's reply.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>
#include <set>

#include "tests/integration/cluster_harness.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;
using Response = http::response<http::string_body>;

Response admin(const Cluster& cluster, http::verb method, const std::string& target,
               std::string body = {},
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               Millis timeout = 30s) {
  HttpClient client(cluster.admin_port(), timeout);
  http::request<http::string_body> req{method, target, 11};
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  return client.request(std::move(req));
}

json::object body_of(const Response& r) {
  json::value v = json::parse(r.body());
  return v.as_object();
}

TEST(ClusterAdmin, StatusIsTheMastersStatus) {
  Cluster cluster;
  Response r = admin(cluster, http::verb::get, "/admin/status");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(r[http::field::content_type], "application/json");
  json::object status = body_of(r);
  EXPECT_EQ(status.at("master").as_object().at("pid").to_number<long>(), cluster.master().pid());
  auto slots = status.at("slots").as_array();
  ASSERT_EQ(slots.size(), 2u);
  auto pids = cluster.worker_pids();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    EXPECT_EQ(slots[i].as_object().at("state").as_string(), "ready");
    EXPECT_EQ(slots[i].as_object().at("pid").to_number<pid_t>(), pids[i]);
  }
  Response post = admin(cluster, http::verb::post, "/admin/status");
  EXPECT_EQ(post.result_int(), 405);
  EXPECT_EQ(post[http::field::allow], "GET");
}

TEST(ClusterAdmin, BroadcastAndSendReachTheWorkers) {
  Cluster cluster;
  auto pids = cluster.worker_pids();
  Response r = admin(cluster, http::verb::post, "/admin/broadcast", R"({"usersCount":25})");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  json::object reply = body_of(r);
  EXPECT_EQ(reply.at("ok").as_bool(), true);
  EXPECT_EQ(reply.at("delivered").to_number<int>(), 2);
  for (int slot = 0; slot < 2; ++slot) {
    EXPECT_TRUE(eventually(
        [&] {
          return cluster.master().has_line(std::regex(
              "\\[slot " + std::to_string(slot) + " pid " + std::to_string(pids[slot]) +
              R"(\] message \{"usersCount":25\})"));
        },
        5s))
        << "slot " << slot;
  }

  Response one = admin(cluster, http::verb::post, "/admin/send/1", R"({"hello":"one"})");
  ASSERT_EQ(one.result_int(), 200) << one.body();
  EXPECT_NE(one.body().find("delivered to slot 1"), std::string::npos) << one.body();
  EXPECT_TRUE(eventually(
      [&] {
        return cluster.master().has_line(std::regex(
            "\\[slot 1 pid " + std::to_string(pids[1]) + R"(\] message \{"hello":"one"\})"));
      },
      5s));

  Response bad = admin(cluster, http::verb::post, "/admin/broadcast", "{usersCount:25}");
  EXPECT_EQ(bad.result_int(), 400);
  EXPECT_NE(bad.body().find("the body must be one JSON value"), std::string::npos) << bad.body();
  Response empty = admin(cluster, http::verb::post, "/admin/broadcast");
  EXPECT_EQ(empty.result_int(), 400) << empty.body();
  Response no_slot = admin(cluster, http::verb::post, "/admin/send/7", "{}");
  EXPECT_EQ(no_slot.result_int(), 404) << no_slot.body();
  EXPECT_NE(no_slot.body().find("no slot 7"), std::string::npos) << no_slot.body();
  Response not_a_slot = admin(cluster, http::verb::post, "/admin/send/x", "{}");
  EXPECT_EQ(not_a_slot.result_int(), 404) << not_a_slot.body();
  // The same words as the command line's (corral send 7 / corral send x).
  RunResult cli_no_slot = cluster.cli({"send", "7", "{}"});
  EXPECT_NE(no_slot.body().find("no slot 7: slots are 0 to 1"), std::string::npos)
      << no_slot.body();
  EXPECT_NE(cli_no_slot.err.find("no slot 7: slots are 0 to 1"), std::string::npos)
      << cli_no_slot.err;
  RunResult cli_not_a_slot = cluster.cli({"send", "x", "{}"});
  EXPECT_NE(not_a_slot.body().find("not a slot number: 'x'"), std::string::npos)
      << not_a_slot.body();
  EXPECT_NE(cli_not_a_slot.err.find("not a slot number: 'x'"), std::string::npos)
      << cli_not_a_slot.err;
}

TEST(ClusterAdmin, MutatingCommandsArePostOnlyAndNotFromWebPages) {
  Cluster cluster;
  auto before = cluster.worker_pids();
  for (const char* target : {"/admin/reload", "/admin/broadcast", "/admin/restart/0"}) {
    Response get = admin(cluster, http::verb::get, target);
    EXPECT_EQ(get.result_int(), 405) << target;
    EXPECT_EQ(get[http::field::allow], "POST") << target;
  }
  Response cross = admin(cluster, http::verb::post, "/admin/reload", {},
                         {{"Origin", "https://evil.example"}});
  EXPECT_EQ(cross.result_int(), 403) << cross.body();
  Response unknown = admin(cluster, http::verb::post, "/admin/shutdown");
  EXPECT_EQ(unknown.result_int(), 404) << unknown.body();
  // None of them did anything.
  EXPECT_EQ(cluster.worker_pids(), before);
  EXPECT_FALSE(cluster.master().has_line(std::regex("rolling restart requested")));
}

TEST(ClusterAdmin, ReloadIsARollingRestartAndASecondOneIsRefused) {
  ClusterConfig config;
  config.stop_timeout = "10s";
  config.env["SLOW_STOP_MS"] = "1000";  // each old worker takes 1 s to stop
  Cluster cluster(config);
  auto before = cluster.worker_pids();
  Load load(cluster.port(), 2);
  auto first = std::async(std::launch::async, [&] {
    return admin(cluster, http::verb::post, "/admin/reload", {}, {}, 60s);
  });
  cluster.master().wait_for_line(std::regex("rolling restart: slot 0: starting a replacement"),
                                 10s);
  Response second = admin(cluster, http::verb::post, "/admin/reload");
  EXPECT_EQ(second.result_int(), 409) << second.body();
  EXPECT_NE(second.body().find("refused: a rolling restart requested by admin HTTP reload"),
            std::string::npos)
      << second.body();

  Response done = first.get();
  LoadResult result = load.stop();
  ASSERT_EQ(done.result_int(), 200) << done.body();
  json::object reply = body_of(done);
  EXPECT_NE(std::string(reply.at("message").as_string()).find("2 worker(s) replaced"),
            std::string::npos);
  ASSERT_TRUE(reply.contains("progress"));
  EXPECT_GE(reply.at("progress").as_array().size(), 2u);
  auto after = cluster.worker_pids();
  EXPECT_NE(after[0], before[0]);
  EXPECT_NE(after[1], before[1]);
  EXPECT_EQ(result.failed, 0) << ::testing::PrintToString(result.failures);

  Response restart = admin(cluster, http::verb::post, "/admin/restart/1", {}, {}, 60s);
  EXPECT_EQ(restart.result_int(), 200) << restart.body();
  EXPECT_NE(cluster.worker_pids()[1], after[1]);
}

}  // namespace
}  // namespace corral::test
