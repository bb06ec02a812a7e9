// `corral check` and `corral run` verify on the machine what the config names, before anything
// starts: the access log's folder, CA files, listen ports taken by another process, the worker
// command and its script. Each problem as FILE:LINE:COL: KEY: MESSAGE, exit code 2.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <regex>
#include <sstream>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

// One FILE:LINE:COL: KEY: MESSAGE line: its line, column and message.
struct Found {
  std::string line, column, message;
};

// The problems of `err` that name `key` in `file`.
std::vector<Found> problems_for(const std::string& err, const std::string& file,
                                const std::string& key) {
  auto quoted = [](const std::string& text) {
    return std::regex_replace(text, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
  };
  const std::regex re("^" + quoted(file) + R"(:(\d+):(\d+): )" + quoted(key) + R"(: (.+)$)");
  std::vector<Found> out;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, re)) out.push_back({m[1], m[2], m[3]});
  }
  return out;
}

const char* const head =
    "listen: [\"127.0.0.1:0\"]\n"  // 1
    "admin: 127.0.0.1:0\n";        // 2

TEST(Preflight, CheckReportsAnAccessLogFolderThatDoesNotExist) {
  TempDir dir;
  const std::string log = (dir.path() / "no-such-folder" / "access.log").string();
  auto file = dir.write("c.yaml", std::string(head) +
                                      "upstreams: [{ address: 127.0.0.1:3000 }]\n"  // 3
                                      "access_log: " +
                                      log + "\n");  // 4
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto ps = problems_for(r.err, file.string(), "access_log");
  ASSERT_EQ(ps.size(), 1u) << r.err;
  EXPECT_EQ(ps[0].line, "4");
  EXPECT_EQ(ps[0].column, "13");
  EXPECT_NE(ps[0].message.find("does not exist"), std::string::npos) << r.err;

  // `run` says the same before it starts anything.
  auto run = run_command({CORRAL_BINARY, "run", "-c", file.string()}, 10s);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(problems_for(run.err, file.string(), "access_log").size(), 1u) << run.err;
  EXPECT_EQ(run.err.find("proxy generation"), std::string::npos) << run.err;
}

TEST(Preflight, CheckAcceptsAnAccessLogInAFolderThatExists) {
  TempDir dir;
  auto file = dir.write("c.yaml", std::string(head) +
                                      "upstreams: [{ address: 127.0.0.1:3000 }]\n"
                                      "access_log: " +
                                      (dir.path() / "access.log").string() + "\n");
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Preflight, CheckReportsAMissingCaFile) {
  TempDir dir;
  auto file = dir.write("c.yaml", std::string(head) +
                                      "upstreams: [{ address: 127.0.0.1:3000 }]\n"  // 3
                                      "sessions:\n"                                 // 4
                                      "  redis: rediss://127.0.0.1:6380/0\n"        // 5
                                      "  tls: { ca: certs/ca.pem }\n");             // 6
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto ps = problems_for(r.err, file.string(), "sessions.tls.ca");
  ASSERT_EQ(ps.size(), 1u) << r.err;
  EXPECT_EQ(ps[0].line, "6");
  EXPECT_NE(ps[0].message.find("ca.pem' does not exist"), std::string::npos) << r.err;
}

TEST(Preflight, CheckReportsAListenPortTakenByAnotherProcess) {
  asio::io_context ioc;
  asio::ip::tcp::acceptor taken(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::acceptor taken_too(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  auto address_of = [](const asio::ip::tcp::acceptor& a) {
    return "127.0.0.1:" + std::to_string(a.local_endpoint().port());
  };
  const std::string address = address_of(taken);
  TempDir dir;
  auto file = dir.write("c.yaml", "listen: [\"127.0.0.1:0\", \"" + address +
                                      "\"]\n"  // 1
                                      "admin: \"" +
                                      address_of(taken_too) +
                                      "\"\n"  // 2
                                      "upstreams: [{ address: 127.0.0.1:3000 }]\n");
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto listen = problems_for(r.err, file.string(), "listen[1]");
  ASSERT_EQ(listen.size(), 1u) << r.err;
  EXPECT_EQ(listen[0].line, "1");
  EXPECT_NE(listen[0].message.find(address + " is already in use"), std::string::npos) << r.err;
  auto admin = problems_for(r.err, file.string(), "admin");
  ASSERT_EQ(admin.size(), 1u) << r.err;
  EXPECT_EQ(admin[0].line, "2");
  EXPECT_TRUE(problems_for(r.err, file.string(), "listen[0]").empty()) << r.err;

  // Once the other process lets go, the same file is fine.
  taken.close();
  taken_too.close();
  r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Preflight, CheckReportsAWorkerCommandNotFound) {
  TempDir dir;
  auto file = dir.write("c.yaml", std::string(head) +
                                      "workers:\n"                                       // 3
                                      "  command: [no-such-program-corral, app.js]\n");  // 4
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto ps = problems_for(r.err, file.string(), "workers.command");
  ASSERT_EQ(ps.size(), 2u) << r.err;
  EXPECT_EQ(ps[0].line, "4");
  EXPECT_NE(r.err.find("'no-such-program-corral' not found on PATH"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'app.js' not found in the workers' folder " + dir.path().string()),
            std::string::npos)
      << r.err;
}

TEST(Preflight, CheckFindsTheWorkerScriptRelativeToItsCwd) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "app");
  dir.write("app/server.js", "");
  dir.write("app/run.sh", "#!/bin/sh\n");
  auto file = dir.write("c.yaml", std::string(head) +
                                      "workers:\n"
                                      "  command: [node, server.js]\n"
                                      "  cwd: app\n");
  auto r = run_command({CORRAL_BINARY, "check", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // A program given as a path is looked up from the cwd too, and must be executable.
  auto script = dir.write("c2.yaml", std::string(head) +
                                         "workers:\n"               // 3
                                         "  command: [./run.sh]\n"  // 4
                                         "  cwd: app\n");
  r = run_command({CORRAL_BINARY, "check", "-c", script.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("run.sh' is not executable"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace corral::test
