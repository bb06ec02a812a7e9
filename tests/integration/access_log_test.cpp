// The access log: one line per request, to stdout or a file, or none.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

TEST(AccessLog, OneLinePerRequestOnStdout) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.access_log = "stdout";
  Corral corral(cfg);

  HttpClient client(corral.port());
  EXPECT_EQ(client.get("/status?code=201").result_int(), 201);
  EXPECT_EQ(client.get("/status?code=404").result_int(), 404);
  EXPECT_EQ(client.get("/").result_int(), 200);

  auto& p = corral.process();
  // Each line names the request target and the status it got.
  auto l1 = p.wait_for_line(std::regex(R"(^.*/status\?code=201.*$)"), 5s, Stream::out);
  auto l2 = p.wait_for_line(std::regex(R"(^.*/status\?code=404.*$)"), 5s, Stream::out);
  EXPECT_TRUE(std::regex_search(l1[0], std::regex(R"(code=201.*\b201\b)"))) << l1[0];
  EXPECT_TRUE(std::regex_search(l2[0], std::regex(R"(code=404.*\b404\b)"))) << l2[0];

  // Exactly one line each: stop corral so everything it wrote has been read.
  p.terminate();
  ASSERT_TRUE(p.wait_exit(10s));
  ASSERT_TRUE(p.wait_eof(5s));
  int lines = 0;
  std::istringstream out(p.output(Stream::out));
  std::string line;
  while (std::getline(out, line)) lines += !line.empty();
  EXPECT_EQ(lines, 3) << p.output(Stream::out);
}

// The form docs/configuration.md ("The access log") describes, field by field.
TEST(AccessLog, LineFormatIsTheDocumentedOne) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.access_log = "stdout";
  Corral corral(cfg);
  HttpClient client(corral.port());
  auto res = client.get("/status?code=201", {{"X-Request-Id", "abc123"}});
  EXPECT_EQ(res.result_int(), 201);
  auto line =
      corral.process().wait_for_line(std::regex(R"(^.*/status\?code=201.*$)"), 5s, Stream::out);
  const std::regex documented(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 "GET /status\?code=201 HTTP/1\.1" )"
      R"(201 (\d+) \d+\.\d{3}ms queue=0\.000ms upstream=127\.0\.0\.1:\d+ rid=abc123$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line[0], m, documented)) << line[0];
  EXPECT_GT(std::stoul(m[1]), res.body().size()) << "header and body bytes";
}

TEST(AccessLog, WritesToAFile) {
  Backend be("a");
  TempDir dir;
  const auto log = dir.path() / "access.log";
  CorralConfig cfg;
  cfg.add(be);
  cfg.access_log = log.string();
  Corral corral(cfg);

  HttpClient client(corral.port());
  EXPECT_EQ(client.get("/status?code=202").result_int(), 202);
  EXPECT_EQ(client.get("/").result_int(), 200);
  corral.process().terminate();
  ASSERT_TRUE(corral.process().wait_exit(10s));

  std::ifstream f(log);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("/status?code=202"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_EQ(corral.process().output(Stream::out), "") << "a file log does not go to stdout";
}

TEST(AccessLog, OffWritesNothing) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  cfg.access_log = "off";
  Corral corral(cfg);

  EXPECT_EQ(http_get(corral.port(), "/").result_int(), 200);
  corral.process().terminate();
  ASSERT_TRUE(corral.process().wait_exit(10s));
  ASSERT_TRUE(corral.process().wait_eof(5s));
  EXPECT_EQ(corral.process().output(Stream::out), "");
}

}  // namespace
}  // namespace corral::test
