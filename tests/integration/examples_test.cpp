// Every config in deploy/examples/ runs from a fresh clone as its opening comment says: `corral
// check` accepts it as shipped, and `corral run` serves requests with it (its listen and admin
// addresses moved to free ports, its upstreams pointed at demo apps through the variables the
// example offers, a Redis server of the test's own for shared-sessions.yaml).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/harness.hpp"
#include "tests/integration/redis_server.hpp"

namespace corral::test {
namespace {

namespace fs = std::filesystem;
using Env = std::vector<std::pair<std::string, std::string>>;

fs::path source_root() {
  return fs::path(CORRAL_TEST_DATA).parent_path().parent_path().parent_path();
}
fs::path examples_dir() { return source_root() / "deploy" / "examples"; }

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The example with its listen and admin addresses on free loopback ports and its workers' cwd
// `folder`, the example's own (where the copy is not).
std::string on_free_ports(const std::string& yaml, const fs::path& folder) {
  std::istringstream in(yaml);
  std::ostringstream out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("listen:")) {
      out << "listen: [\"127.0.0.1:0\"]\n";
    } else if (line.starts_with("admin:")) {
      out << "admin: 127.0.0.1:0\n";
    } else if (line == "workers:") {
      out << line << "\n  cwd: \"" << folder.string() << "\"\n";
    } else {
      out << line << "\n";
    }
  }
  return out.str();
}

// One copy of deploy/demo/server.js on a free port.
class DemoApp {
 public:
  DemoApp() {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"node", (source_root() / "deploy/demo/server.js").string()},
        Env{{"PORT", "0"}});
    auto m = process_->wait_for_line(std::regex(R"(listening on http://127\.0\.0\.1:(\d+))"), 10s);
    address_ = "127.0.0.1:" + m[1];
  }
  const std::string& address() const { return address_; }

 private:
  std::unique_ptr<Process> process_;
  std::string address_;
};

// `corral check` on the example as shipped: nothing to report, except its fixed ports when
// another process on this machine holds them.
void expect_check_passes(const fs::path& example, const Env& env) {
  RunResult r = run_command({CORRAL_BINARY, "check", "-c", example.string()}, 20s, env);
  if (r.exit_code == 0) return;
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::istringstream in(r.err);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_NE(line.find("is already in use by another process"), std::string::npos)
        << example.filename() << ": " << line;
  }
}

// A `corral run` of the example on free ports, ready when constructed.
class RunningExample {
 public:
  RunningExample(const std::string& name, const Env& env, fs::path folder = examples_dir()) {
    const fs::path example = folder / name;
    expect_check_passes(example, env);
    config_ = dir_.write(name, on_free_ports(read_text(example), folder));
    process_ = std::make_unique<Process>(
        std::vector<std::string>{CORRAL_BINARY, "run", "-c", config_.string()}, env);
    auto m = process_->wait_for_line(std::regex(R"(listening on http://127\.0\.0\.1:(\d+))"), 15s);
    port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
    process_->wait_for_line(std::regex(R"(\bready: proxy pid)"), 20s);
  }
  ~RunningExample() {
    process_->terminate();
    auto code = process_->wait_exit(15s);
    EXPECT_EQ(code.value_or(-1), 0) << process_->tail();
    if (::testing::Test::HasFailure()) std::cerr << process_->tail() << "\n";
  }
  std::uint16_t port() const { return port_; }

 private:
  TempDir dir_;
  fs::path config_;
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

// Every example is covered below: a new one needs a test.
TEST(Examples, EveryExampleHasATest) {
  const std::set<std::string> tested = {"least-loaded-health.yaml", "shared-sessions.yaml",
                                        "sidecar.yaml", "static-upstreams.yaml",
                                        "sticky-sessions.yaml"};
  std::set<std::string> found;
  for (const auto& entry : fs::directory_iterator(examples_dir()))
    if (entry.path().extension() == ".yaml") found.insert(entry.path().filename().string());
  EXPECT_EQ(found, tested);
}

void expect_demo_answers(std::uint16_t port, int requests) {
  for (int i = 0; i < requests; ++i) {
    auto res = http_get(port, "/");
    EXPECT_EQ(res.result_int(), 200) << res.body();
    EXPECT_NE(res.body().find("Handled by process"), std::string::npos) << res.body();
  }
}

TEST(Examples, StaticUpstreams) {
  DemoApp a, b;
  RunningExample corral("static-upstreams.yaml", {{"APP_A", a.address()}, {"APP_B", b.address()}});
  expect_demo_answers(corral.port(), 3);
}

TEST(Examples, LeastLoadedHealth) {
  DemoApp a, b, c;
  RunningExample corral("least-loaded-health.yaml",
                        {{"APP_1", a.address()}, {"APP_2", b.address()}, {"APP_3", c.address()}});
  expect_demo_answers(corral.port(), 3);
}

TEST(Examples, Sidecar) {
  DemoApp app;
  RunningExample corral("sidecar.yaml", {{"APP_ADDRESS", app.address()}, {"CORRAL_THREADS", "1"}});
  expect_demo_answers(corral.port(), 3);
}

TEST(Examples, StickySessions) {
  RunningExample corral("sticky-sessions.yaml", {});
  HttpClient client(corral.port());
  auto first = client.get("/");
  ASSERT_EQ(first.result_int(), 200) << first.body();
  std::smatch m;
  const std::string set_cookie(first[http::field::set_cookie]);
  ASSERT_TRUE(std::regex_search(set_cookie, m, std::regex("connect\\.sid=([^;]+)"))) << set_cookie;
  const std::string cookie = "connect.sid=" + m[1].str();
  // Fresh connections, so that only the pin keeps the visitor on its worker.
  for (int visit = 2; visit <= 4; ++visit) {
    HttpClient again(corral.port());
    auto res = again.get("/", {{"Cookie", cookie}});
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_NE(res.body().find("visit " + std::to_string(visit) + " of"), std::string::npos)
        << res.body();
  }
}

TEST(Examples, SharedSessions) {
  REQUIRE_REDIS();
  RedisServer redis;
  RunningExample corral("shared-sessions.yaml", {{"REDIS_URL", redis.url()}});
  HttpClient client(corral.port());
  auto login = client.get("/login?user=ann");
  ASSERT_EQ(login.result_int(), 200) << login.body();
  std::smatch m;
  const std::string set_cookie(login[http::field::set_cookie]);
  ASSERT_TRUE(std::regex_search(set_cookie, m, std::regex("corral_sid=([^;]+)"))) << set_cookie;
  for (int i = 0; i < 3; ++i) {
    HttpClient again(corral.port());
    auto res = again.get("/", {{"Cookie", "corral_sid=" + m[1].str()}});
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_NE(res.body().find("hello ann from process"), std::string::npos) << res.body();
  }
}

// The demo of the README (deploy/demo/corral.yaml, deploy/scripts/demo.sh) too.
TEST(Examples, Demo) {
  RunningExample corral("corral.yaml", {}, source_root() / "deploy" / "demo");
  expect_demo_answers(corral.port(), 3);
}

}  // namespace
}  // namespace corral::test
