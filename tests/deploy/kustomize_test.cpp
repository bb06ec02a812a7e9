// deploy/kubernetes/: each kustomize base rendered with `kubectl kustomize` (Debian's
// kubernetes-client, deploy/scripts/install-deps.sh test) into the expected kinds, and the
// corral config of each ConfigMap checked by `corral check` with the environment the pod gives
// it (Secret values included), its probes, ports and grace period held against that config.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/beast/core/detail/base64.hpp>
#include <cstdlib>
#include <map>

#include "config/load.hpp"
#include "tests/deploy/deploy_files.hpp"
#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

namespace fs = std::filesystem;

std::vector<YAML::Node> render(const std::string& base) {
  RunResult r;
  try {
    r = run_command({"kubectl", "kustomize", (source_dir() / "deploy/kubernetes" / base).string()},
                    60s);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "kubectl kustomize did not run (deploy/scripts/install-deps.sh test installs "
                     "kubernetes-client): "
                  << e.what();
    return {};
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return YAML::LoadAll(r.out);
}

std::map<std::string, int> kinds_of(const std::vector<YAML::Node>& docs) {
  std::map<std::string, int> kinds;
  for (const auto& d : docs) ++kinds[d["kind"].as<std::string>()];
  return kinds;
}

const YAML::Node* find(const std::vector<YAML::Node>& docs, const std::string& kind,
                       const std::string& name_prefix) {
  for (const auto& d : docs)
    if (d["kind"].as<std::string>() == kind &&
        d["metadata"]["name"].as<std::string>().starts_with(name_prefix))
      return &d;
  return nullptr;
}

std::string base64_decode(const std::string& in) {
  std::string out(boost::beast::detail::base64::decoded_size(in.size()), '\0');
  auto [n, read] = boost::beast::detail::base64::decode(out.data(), in.data(), in.size());
  out.resize(n);
  return out;
}

// The container's environment as the kubelet would set it: values and secretKeyRefs.
Env env_of(const YAML::Node& container, const std::vector<YAML::Node>& docs) {
  Env env;
  for (const auto& e : container["env"]) {
    const std::string name = e["name"].as<std::string>();
    if (e["value"]) {
      env.emplace_back(name, e["value"].as<std::string>());
      continue;
    }
    const YAML::Node ref = e["valueFrom"]["secretKeyRef"];
    EXPECT_TRUE(ref) << name << ": only values and secretKeyRefs are read here";
    if (!ref) continue;
    const std::string secret = ref["name"].as<std::string>();
    const YAML::Node* s = nullptr;
    for (const auto& d : docs)
      if (d["kind"].as<std::string>() == "Secret" &&
          d["metadata"]["name"].as<std::string>() == secret)
        s = &d;
    EXPECT_TRUE(s) << name << ": Secret " << secret << " is not in the base";
    if (!s) continue;
    const YAML::Node value = (*s)["data"][ref["key"].as<std::string>()];
    EXPECT_TRUE(value) << name << ": Secret " << secret << " has no key " << ref["key"];
    if (value) env.emplace_back(name, base64_decode(value.as<std::string>()));
  }
  return env;
}

const YAML::Node container_named(const YAML::Node& deployment, const std::string& name) {
  for (const auto& c : deployment["spec"]["template"]["spec"]["containers"])
    if (c["name"].as<std::string>() == name) return c;
  ADD_FAILURE() << "no container " << name;
  return YAML::Node();
}

int container_port(const YAML::Node& container, const std::string& name) {
  for (const auto& p : container["ports"])
    if (p["name"].as<std::string>() == name) return p["containerPort"].as<int>();
  return 0;
}

// The ConfigMap's corral.yaml written out (next to `beside`'s files: what else the pod has in
// the config's folder), checked with `env`, and loaded.
config::Config check_config(const YAML::Node& config_map, const Env& env,
                            const std::vector<fs::path>& beside = {}) {
  TempDir dir;
  const auto path = dir.write("corral.yaml", config_map["data"]["corral.yaml"].as<std::string>());
  for (const auto& f : beside) fs::copy_file(f, dir.path() / f.filename());
  const auto problems = check_problems(path, env);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
  auto loaded = config::load_file(path.string());
  if (!loaded.config) {
    ADD_FAILURE() << "the config does not load";
    return {};
  }
  return *loaded.config;
}

// What both bases promise: probes on the admin endpoints, the Service on corral's listen port,
// a shutdown_delay instead of a preStop sleep, and a grace period that covers delay, drain and
// (cluster mode) the workers' stop.
void expect_corral_container(const YAML::Node& deployment, const YAML::Node& corral,
                             const config::Config& cfg, const YAML::Node& service) {
  ASSERT_TRUE(cfg.admin);
  EXPECT_EQ(container_port(corral, "admin"), cfg.admin->port);
  EXPECT_EQ(cfg.admin->host, "0.0.0.0") << "the kubelet probes the pod's IP";
  EXPECT_EQ(container_port(corral, "http"), cfg.listen.at(0).address.port);
  EXPECT_EQ(corral["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
  EXPECT_EQ(corral["readinessProbe"]["httpGet"]["port"].as<std::string>(), "admin");
  EXPECT_EQ(corral["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  EXPECT_EQ(corral["livenessProbe"]["httpGet"]["port"].as<std::string>(), "admin");
  EXPECT_FALSE(corral["lifecycle"]) << "shutdown_delay replaces a preStop sleep";
  EXPECT_GT(cfg.shutdown_delay.count(), 0);
  const auto grace = std::chrono::seconds(
      deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as<int>());
  // In cluster mode the workers stop after the drain: their stop timeout counts too.
  const auto stop = cfg.workers ? cfg.workers->stop.timeout : config::Duration::zero();
  EXPECT_GT(grace, cfg.shutdown_delay + cfg.timeouts.drain + stop);
  EXPECT_EQ(service["spec"]["ports"][0]["targetPort"].as<std::string>(), "http");
  EXPECT_EQ(service["spec"]["selector"]["app"].as<std::string>(),
            deployment["spec"]["template"]["metadata"]["labels"]["app"].as<std::string>());
}

TEST(Kustomize, SidecarBase) {
  const auto docs = render("sidecar");
  ASSERT_FALSE(docs.empty());
  EXPECT_EQ(kinds_of(docs),
            (std::map<std::string, int>{{"ConfigMap", 1}, {"Deployment", 1}, {"Service", 1}}));
  const YAML::Node* cm = find(docs, "ConfigMap", "corral-sidecar-config");
  const YAML::Node* deployment = find(docs, "Deployment", "demo");
  const YAML::Node* service = find(docs, "Service", "demo");
  ASSERT_TRUE(cm && deployment && service);

  const YAML::Node corral = container_named(*deployment, "corral");
  const YAML::Node app = container_named(*deployment, "app");
  const auto cfg = check_config(*cm, env_of(corral, docs));
  expect_corral_container(*deployment, corral, cfg, *service);

  // corral fronts the app of its own pod on loopback, where the app listens.
  ASSERT_EQ(cfg.upstreams.size(), 1u);
  EXPECT_EQ(cfg.upstreams[0].address.host, "127.0.0.1");
  std::map<std::string, std::string> app_env;
  for (const auto& [k, v] : env_of(app, docs)) app_env[k] = v;
  EXPECT_EQ(app_env["PORT"], std::to_string(cfg.upstreams[0].address.port));
  EXPECT_EQ(app_env["HOST"], "127.0.0.1");
  // The app outlives corral's delay and drain, so that no request corral still serves fails.
  const auto words = app["lifecycle"]["preStop"]["exec"]["command"].as<std::vector<std::string>>();
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0], "sleep");
  EXPECT_GE(std::chrono::seconds(std::stoi(words[1])), cfg.shutdown_delay + cfg.timeouts.drain);
}

TEST(Kustomize, ClusterBase) {
  const auto docs = render("cluster");
  ASSERT_FALSE(docs.empty());
  EXPECT_EQ(kinds_of(docs),
            (std::map<std::string, int>{
                {"ConfigMap", 1}, {"Deployment", 2}, {"Secret", 1}, {"Service", 2}}));
  const YAML::Node* cm = find(docs, "ConfigMap", "corral-cluster-config");
  const YAML::Node* deployment = find(docs, "Deployment", "corral-cluster");
  const YAML::Node* service = find(docs, "Service", "corral-cluster");
  ASSERT_TRUE(cm && deployment && service);
  ASSERT_TRUE(find(docs, "Deployment", "corral-redis"));
  ASSERT_TRUE(find(docs, "Service", "corral-redis"));
  EXPECT_GT((*deployment)["spec"]["replicas"].as<int>(), 1);

  // The config is mounted next to the image's server.js (deploy/Dockerfile's demo stage copies
  // deploy/demo/server.js to /app), the workers' folder: checked with it beside it.
  const YAML::Node corral = container_named(*deployment, "corral");
  bool mounted_in_app = false;
  for (const auto& m : corral["volumeMounts"])
    mounted_in_app |= m["mountPath"].as<std::string>() == "/app/corral.yaml";
  EXPECT_TRUE(mounted_in_app);
  const auto cfg =
      check_config(*cm, env_of(corral, docs), {source_dir() / "deploy/demo/server.js"});
  expect_corral_container(*deployment, corral, cfg, *service);

  ASSERT_TRUE(cfg.workers) << "cluster mode forks the app";
  ASSERT_TRUE(cfg.sessions) << "sessions are shared through Redis";
  EXPECT_EQ(cfg.sessions->redis.host, "corral-redis");
  ASSERT_TRUE(cfg.sticky);
  EXPECT_EQ(cfg.sticky->mode, config::StickyMode::insert);
  // The key comes from the Secret, through the environment, never from the ConfigMap.
  EXPECT_TRUE(cfg.sticky->key.empty());
  bool from_secret = false;
  for (const auto& e : corral["env"])
    if (e["name"].as<std::string>() == cfg.sticky->key_env)
      from_secret = static_cast<bool>(e["valueFrom"]["secretKeyRef"]);
  EXPECT_TRUE(from_secret) << cfg.sticky->key_env << " is not set from a Secret";
}

}  // namespace
}  // namespace corral::test
