#include "proxy/master/status_view.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace corral::master {
namespace {

TEST(StatusView, Uptime) {
  EXPECT_EQ(format_uptime(0), "0s");
  EXPECT_EQ(format_uptime(45'999), "45s");
  EXPECT_EQ(format_uptime(123'000), "2m 3s");
  EXPECT_EQ(format_uptime(120'000), "2m");
  EXPECT_EQ(format_uptime((3 * 3600 + 12 * 60 + 5) * 1000ull), "3h 12m");
  EXPECT_EQ(format_uptime((4 * 86400 + 2 * 3600) * 1000ull), "4d 2h");
}

TEST(StatusView, Bytes) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(2048), "2.0 KiB");
  EXPECT_EQ(format_bytes(43'200'000), "41.2 MiB");
  EXPECT_EQ(format_bytes(3ull << 30), "3.0 GiB");
}

TEST(StatusView, Table) {
  auto status = boost::json::parse(R"({
    "master": {"pid": 100, "uptime_ms": 65000, "config": "/srv/corral.yaml", "operation": ""},
    "proxy": {"pid": 101, "generation": 2, "state": "ready", "uptime_ms": 3000,
              "cpu_percent": 1.25, "rss_bytes": 10485760},
    "slots": [
      {"slot": 0, "pid": 200, "state": "ready", "generation": 3, "uptime_ms": 61000,
       "restarts": 2, "cpu_percent": 12.5, "rss_bytes": 45088768, "in_flight": 1,
       "requests": 1203, "crashes_in_a_row": 0, "last_exit": "exit code 1"},
      {"slot": 1, "pid": 0, "state": "errored", "generation": 7, "uptime_ms": 0,
       "restarts": 6, "cpu_percent": 0, "rss_bytes": 0, "in_flight": 0, "requests": 40,
       "crashes_in_a_row": 5, "last_exit": "exit code 1"}
    ]})")
                    .as_object();
  EXPECT_EQ(render_status_table(status),
            "master  pid 100, up 1m 5s, config /srv/corral.yaml\n"
            "proxy   pid 101, generation 2, ready, up 3s, cpu 1.2%, mem 10.0 MiB\n"
            "slot  pid  state    gen  uptime  restarts  cpu    mem       in-flight  requests\n"
            "0     200  ready    3    1m 1s   2         12.5%  43.0 MiB  1          1203\n"
            "1     -    errored  7    -       6         -      -         0          40\n"
            "slot 1: errored, last exit: exit code 1, 5 failure(s) in a row\n");
}

TEST(StatusView, SessionsColumnWithStickyLearnMode) {
  auto status = boost::json::parse(R"({
    "master": {"pid": 100, "uptime_ms": 1000, "config": "/c.yaml", "operation": ""},
    "proxy": {"pid": 101, "generation": 1, "state": "ready", "uptime_ms": 1000,
              "cpu_percent": 0, "rss_bytes": 1048576},
    "slots": [
      {"slot": 0, "pid": 200, "state": "ready", "generation": 1, "uptime_ms": 1000,
       "restarts": 0, "cpu_percent": 0, "rss_bytes": 1048576, "in_flight": 0,
       "requests": 10, "sessions": 7},
      {"slot": 1, "pid": 201, "state": "ready", "generation": 1, "uptime_ms": 1000,
       "restarts": 0, "cpu_percent": 0, "rss_bytes": 1048576, "in_flight": 0,
       "requests": 12, "sessions": 5}
    ]})")
                    .as_object();
  EXPECT_EQ(render_status_table(status),
            "master  pid 100, up 1s, config /c.yaml\n"
            "proxy   pid 101, generation 1, ready, up 1s, cpu 0.0%, mem 1.0 MiB\n"
            "slot  pid  state  gen  uptime  restarts  cpu   mem      in-flight  requests  sessions\n"
            "0     200  ready  1    1s      0         0.0%  1.0 MiB  0          10        7\n"
            "1     201  ready  1    1s      0         0.0%  1.0 MiB  0          12        5\n");
}

TEST(StatusView, RunningOperationAndNoSlots) {
  auto status = boost::json::parse(R"({
    "master": {"pid": 100, "uptime_ms": 1000, "config": "/c.yaml",
               "operation": "rolling restart requested by SIGUSR2 1 s ago"},
    "proxy": {"pid": 0, "state": "restarting"},
    "slots": []})")
                    .as_object();
  EXPECT_EQ(render_status_table(status),
            "master  pid 100, up 1s, config /c.yaml\n"
            "        rolling restart requested by SIGUSR2 1 s ago\n"
            "proxy   not running (restarting)\n"
            "no worker slots (this config fronts upstreams)\n");
}

}  // namespace
}  // namespace corral::master
