#include "proxy/master/worker_spec.hpp"

#include <gtest/gtest.h>

namespace corral::master {
namespace {

config::Workers workers() {
  config::Workers w;
  w.command = {"node", "server.js"};
  return w;
}

TEST(WorkerSpec, CwdIsTakenFromTheConfigFilesDirectory) {
  auto w = workers();
  EXPECT_EQ(resolve_workers(w, "/srv/app/corral.yaml", 4).cwd, "/srv/app");
  w.cwd = "./web";
  EXPECT_EQ(resolve_workers(w, "/srv/app/corral.yaml", 4).cwd, "/srv/app/web");
  w.cwd = "../other/";
  EXPECT_EQ(resolve_workers(w, "/srv/app/corral.yaml", 4).cwd, "/srv/other");
  w.cwd = "/opt/x";
  EXPECT_EQ(resolve_workers(w, "/srv/app/corral.yaml", 4).cwd, "/opt/x");
}

TEST(WorkerSpec, CountMaxIsTheCores) {
  auto w = workers();
  EXPECT_EQ(resolve_workers(w, "/c.yaml", 8).count, 8u);
  w.count = 3;
  EXPECT_EQ(resolve_workers(w, "/c.yaml", 8).count, 3u);
}

TEST(WorkerSpec, FixedPorts) {
  auto w = workers();
  EXPECT_EQ(resolve_workers(w, "/c.yaml", 2).fixed_port(1), 0);
  w.port_base = 4000;
  EXPECT_EQ(resolve_workers(w, "/c.yaml", 2).fixed_port(1), 4001);
}

TEST(WorkerSpec, WhatNeedsARollingRestart) {
  WorkerSpec a = resolve_workers(workers(), "/c.yaml", 2);
  WorkerSpec b = a;
  b.count = 5;
  b.ready.timeout = std::chrono::seconds(1);
  b.stop.timeout = std::chrono::seconds(1);
  EXPECT_FALSE(b.starts_differently(a));  // applied without replacing workers
  b.env.emplace_back("NODE_ENV", "production");
  EXPECT_TRUE(b.starts_differently(a));
  b = a;
  b.argv.push_back("--inspect");
  EXPECT_TRUE(b.starts_differently(a));
  b = a;
  b.cwd = "/elsewhere";
  EXPECT_TRUE(b.starts_differently(a));
}

}  // namespace
}  // namespace corral::master
