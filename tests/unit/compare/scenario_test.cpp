#include "proxy/compare/scenario.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "proxy/compare/mode_config.hpp"
#include "proxy/compare/scenario_file.hpp"

namespace corral::compare {
namespace {

using namespace std::chrono_literals;

TEST(Modes, ParsedFromACommaList) {
  auto p = parse_modes("shared, round-robin,shared");
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_EQ(p.modes, (std::vector<Mode>{Mode::shared, Mode::round_robin}));
  EXPECT_EQ(parse_modes("sticky,shared").error,
            "unknown mode 'sticky' (sticky-learn, sticky-insert, shared, round-robin)");
  EXPECT_FALSE(parse_modes("").error.empty());
}

TEST(RequestLines, SplitAndFilledIn) {
  auto r = parse_request_line("POST /cart/add?item={item}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(substitute(r->target, "ann", "ann1"), "/cart/add?item=ann1");
  EXPECT_FALSE(parse_request_line("/me"));
  EXPECT_FALSE(parse_request_line("get /me"));
}

TEST(FlagDurations, OffIsZero) {
  EXPECT_EQ(parse_flag_duration("off"), Millis{0});
  EXPECT_EQ(parse_flag_duration("1m30s"), Millis{90000});
  EXPECT_FALSE(parse_flag_duration("30"));
}

class ScenarioFile : public ::testing::Test {
 protected:
  std::string write(const std::string& yaml) {
    path_ = std::filesystem::temp_directory_path() /
            ("corral-compare-test-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path_) << yaml;
    return path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(ScenarioFile, ReadsEveryKey) {
  Scenario s;
  auto problems = read_scenario_file(write(R"(app:
  command: ["node", "app.js"]
  cwd: sub
  env: { NODE_ENV: production }
  workers: 3
  cookie: connect.sid
  worker_header: X-Served-By
requests:
  login: POST /session?name={user}
users: 50
duration: 20s
think: 0ms
faults: { kill_every: 4s, rolling_restart_at: off, redis_restart_at: 12s }
modes: [shared, round-robin]
)"),
                                     s);
  ASSERT_TRUE(problems.empty()) << problems[0];
  EXPECT_EQ(s.app.command, (std::vector<std::string>{"node", "app.js"}));
  EXPECT_EQ(s.app.cwd, (path_.parent_path() / "sub").string());
  EXPECT_EQ(s.app.env.at("NODE_ENV"), "production");
  EXPECT_EQ(s.app.workers, 3u);
  EXPECT_EQ(s.app.cookie, "connect.sid");
  EXPECT_EQ(s.app.worker_header, "X-Served-By");
  EXPECT_EQ(s.requests.login, "POST /session?name={user}");
  EXPECT_EQ(s.requests.me, "GET /me");  // default kept
  EXPECT_EQ(s.users, 50u);
  EXPECT_EQ(s.duration, 20000ms);
  EXPECT_EQ(s.think, 0ms);
  EXPECT_EQ(s.faults.kill_every, 4000ms);
  EXPECT_FALSE(s.faults.rolling_restart_at);
  EXPECT_EQ(s.faults.redis_restart_at, Millis{12000});
  EXPECT_EQ(s.modes, (std::vector<Mode>{Mode::shared, Mode::round_robin}));
}

TEST_F(ScenarioFile, ReportsEveryProblemWithItsPlace) {
  Scenario s;
  const auto path = write("users: many\nduraton: 5s\nmodes: [sticky]\nrequests: { me: /me }\n");
  auto problems = read_scenario_file(path, s);
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0], path + ":2:1: duraton: unknown key");
  EXPECT_EQ(problems[1], path + ":4:17: requests.me: expected 'METHOD /target', got '/me'");
  EXPECT_EQ(problems[2], path + ":1:8: users: expected a whole number 1..100000, got 'many'");
  EXPECT_NE(problems[3].find("modes: unknown mode 'sticky'"), std::string::npos);
}

TEST(ModeConfig, EachModeBalancesItsOwnWay) {
  Scenario s;
  s.app.workers = 3;
  ModeConfigInputs in;
  in.app_command_yaml = yaml_flow_list({"node", "server.js"});
  in.cwd = "/srv/app";
  in.mode = Mode::round_robin;
  auto rr = render_mode_config(s, in);
  EXPECT_NE(rr.find("listen: 127.0.0.1:0\n"), std::string::npos);
  EXPECT_NE(rr.find("  command: [\"node\", \"server.js\"]\n  count: 3\n  cwd: \"/srv/app\"\n"),
            std::string::npos);
  EXPECT_NE(rr.find("balance: round_robin\n"), std::string::npos);
  EXPECT_EQ(rr.find("sticky"), std::string::npos);

  in.mode = Mode::sticky_learn;
  EXPECT_NE(render_mode_config(s, in).find("sticky: { cookie: demo_sid, mode: learn"),
            std::string::npos);
  in.mode = Mode::sticky_insert;
  in.insert_key = "0123456789abcdef0123";
  EXPECT_NE(render_mode_config(s, in).find("mode: insert, key: \"0123456789abcdef0123\""),
            std::string::npos);
  in.mode = Mode::shared;
  in.redis_url = "redis://127.0.0.1:7000/0";
  auto shared = render_mode_config(s, in);
  EXPECT_NE(shared.find("balance: least_loaded\n"), std::string::npos);
  EXPECT_NE(shared.find("sessions: { store: redis, redis: \"redis://127.0.0.1:7000/0\""),
            std::string::npos);
}

}  // namespace
}  // namespace corral::compare
