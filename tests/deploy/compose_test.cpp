// deploy/compose.yaml: read with yaml-cpp (no container engine here), held against the
// Dockerfile it builds and the corral config it mounts, which must pass `corral check`.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <optional>
#include <set>

#include "config/load.hpp"
#include "config/units.hpp"
#include "tests/deploy/deploy_files.hpp"
#include "tests/deploy/dockerfile.hpp"
#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

namespace fs = std::filesystem;

const fs::path deploy_dir() { return source_dir() / "deploy"; }

struct Mount {
  fs::path source;  // on the host, relative paths from deploy/
  std::string target;
};

Mount mount_of(const std::string& volume) {
  const auto first = volume.find(':');
  const auto second = volume.find(':', first + 1);
  return {deploy_dir() / volume.substr(0, first), volume.substr(first + 1, second - first - 1)};
}

TEST(Compose, CorralInClusterModeWithRedis) {
  const YAML::Node compose = YAML::LoadFile((deploy_dir() / "compose.yaml").string());
  const YAML::Node services = compose["services"];
  ASSERT_TRUE(services["corral"]) << "no corral service";
  ASSERT_TRUE(services["redis"]) << "no redis service";

  // corral's image is the Dockerfile's demo stage (corral + Node + the demo app).
  const YAML::Node build = services["corral"]["build"];
  EXPECT_EQ(fs::weakly_canonical(deploy_dir() / build["context"].as<std::string>()),
            fs::weakly_canonical(source_dir()));
  EXPECT_EQ(build["dockerfile"].as<std::string>(), "deploy/Dockerfile");
  const auto stages = read_dockerfile(source_dir() / "deploy/Dockerfile");
  const DockerStage* demo = nullptr;
  for (const auto& s : stages)
    if (s.name == build["target"].as<std::string>()) demo = &s;
  ASSERT_TRUE(demo) << "compose builds a stage the Dockerfile does not have";

  // Redis is up before corral starts, as a fail_closed session store wants.
  EXPECT_EQ(services["corral"]["depends_on"]["redis"]["condition"].as<std::string>(),
            "service_healthy");
  EXPECT_TRUE(services["redis"]["healthcheck"]);
}

TEST(Compose, TheMountedConfigPassesCorralCheck) {
  const YAML::Node compose = YAML::LoadFile((deploy_dir() / "compose.yaml").string());
  const YAML::Node corral = compose["services"]["corral"];
  const auto stages = read_dockerfile(source_dir() / "deploy/Dockerfile");
  const DockerStage* demo = nullptr;
  for (const auto& s : stages)
    if (s.name == corral["build"]["target"].as<std::string>()) demo = &s;
  ASSERT_TRUE(demo);
  ASSERT_GE(demo->cmd.size(), 3u);
  const std::string config_in_container = demo->cmd[2];  // run -c FILE

  // The config mounted where the image's CMD reads it, from a file in this repository.
  std::optional<Mount> config_mount;
  for (const auto& v : corral["volumes"]) {
    Mount m = mount_of(v.as<std::string>());
    EXPECT_TRUE(fs::exists(m.source)) << m.source;
    if (m.target == config_in_container) config_mount = m;
  }
  ASSERT_TRUE(config_mount) << "nothing mounted at " << config_in_container;
  // The image holds server.js in the same folder (the workers' folder is the config's).
  EXPECT_EQ(fs::path(config_in_container).parent_path(), "/app");
  EXPECT_TRUE(fs::exists(config_mount->source.parent_path() / "server.js"));

  Env env;
  for (const auto& e : corral["environment"])
    env.emplace_back(e.first.as<std::string>(), e.second.as<std::string>());
  const auto problems = check_problems(config_mount->source, env);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);

  // What the compose file promises of the config: cluster mode, sessions in the redis service,
  // published ports that corral listens on, and a grace period longer than the stop takes.
  for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
  auto loaded = config::load_file(config_mount->source.string());
  ASSERT_TRUE(loaded.config);
  const auto& cfg = *loaded.config;
  ASSERT_TRUE(cfg.workers) << "not cluster mode";
  ASSERT_TRUE(cfg.sessions) << "not shared-state mode";
  EXPECT_EQ(cfg.sessions->redis.host, "redis");
  std::set<std::string> published;
  for (const auto& p : corral["ports"]) {
    const std::string spec = p.as<std::string>();
    published.insert(spec.substr(spec.rfind(':') + 1));
  }
  EXPECT_TRUE(published.count(std::to_string(cfg.listen.at(0).address.port)));
  ASSERT_TRUE(cfg.admin);
  EXPECT_TRUE(published.count(std::to_string(cfg.admin->port)));
  auto grace = config::parse_duration(corral["stop_grace_period"].as<std::string>());
  ASSERT_TRUE(grace);
  EXPECT_GT(*grace, cfg.shutdown_delay + cfg.timeouts.drain + cfg.workers->stop.timeout);
}

}  // namespace
}  // namespace corral::test
