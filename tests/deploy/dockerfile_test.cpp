// deploy/Dockerfile without a container engine: its package lists against what CMake finds,
// what deploy/scripts/install-deps.sh installs and what the built binary links (no drift), a
// non-root runtime, and its HEALTHCHECK command run against a real corral.
#include "tests/deploy/dockerfile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>

#include "tests/deploy/deploy_files.hpp"
#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

namespace fs = std::filesystem;

// Where each build dependency comes from on Debian 12. A find_package or pkg_check_modules the
// table does not know fails the test: add the package here, to the Dockerfile's build stage and
// to install-deps.sh together.
const std::map<std::string, std::string> debian_package_of = {
    {"Threads", ""},  // libc
    {"Boost", "libboost1.81-dev"},
    {"Boost:json", "libboost-json1.81-dev"},
    {"Boost:url", "libboost-url1.81-dev"},
    {"OpenSSL", "libssl-dev"},
    {"yaml-cpp", "libyaml-cpp-dev"},
    {"fmt", "libfmt-dev"},
    {"spdlog", "libspdlog-dev"},
    {"PkgConfig", "pkg-config"},
    {"pkg-config:hiredis", "libhiredis-dev"},
    {"pkg-config:libnghttp2", "libnghttp2-dev"},
    {"mimalloc", "libmimalloc-dev"},
    {"include:CLI/CLI.hpp", "libcli11-dev"},  // header-only, found by #include alone
    {"GTest", "libgtest-dev"},                // tests only
};
// The tools the build stage runs: the compiler, CMake and Ninja (`-G Ninja`).
const std::set<std::string> build_tools = {"g++", "cmake", "ninja-build"};
// Packages every debian:12-slim (and node:20-bookworm-slim) image already has.
const std::set<std::string> base_image_packages = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"};

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : " ") + x;
  return out;
}

// The CMake dependencies of the build (`tests/` apart), as keys of debian_package_of.
std::set<std::string> cmake_dependencies(bool tests) {
  std::set<std::string> deps;
  const std::regex find_package(R"(find_package\(\s*([A-Za-z0-9_-]+)([^)]*)\))");
  const std::regex pkg_modules(R"(pkg_check_modules\(\s*\w+([^)]*)\))");
  for (auto it = fs::recursive_directory_iterator(source_dir());
       it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory()) {
      // Build trees, .git and node_modules hold no CMakeLists.txt of corral's own.
      if (name.starts_with("build") || name.starts_with(".") || name == "node_modules")
        it.disable_recursion_pending();
      continue;
    }
    if (name != "CMakeLists.txt") continue;
    const auto rel = fs::relative(it->path(), source_dir()).string();
    if (rel.starts_with("tests/") != tests) continue;
    const auto& entry = *it;
    const std::string text = read_text(entry.path());
    for (std::sregex_iterator m(text.begin(), text.end(), find_package), end; m != end; ++m) {
      const std::string name = (*m)[1];
      deps.insert(name);
      const auto args = words_of((*m)[2]);
      auto comp = std::find(args.begin(), args.end(), "COMPONENTS");
      if (comp != args.end())
        for (++comp; comp != args.end() && *comp != "REQUIRED"; ++comp)
          deps.insert(name + ":" + *comp);
    }
    for (std::sregex_iterator m(text.begin(), text.end(), pkg_modules), end; m != end; ++m)
      for (const auto& w : words_of((*m)[1]))
        if (w != "REQUIRED" && w != "QUIET" && w != "IMPORTED_TARGET")
          deps.insert("pkg-config:" + w);
  }
  return deps;
}

// The packages of one array in install-deps.sh, e.g. build=(...).
std::set<std::string> install_deps_set(const std::string& name) {
  const std::string text = read_text(source_dir() / "deploy/scripts/install-deps.sh");
  const auto at = text.find("\n" + name + "=(");
  if (at == std::string::npos) throw HarnessError("install-deps.sh has no " + name + "=(...)");
  const auto open = text.find('(', at);
  const auto close = text.find(')', open);
  const auto words = words_of(text.substr(open + 1, close - open - 1));
  return {words.begin(), words.end()};
}

const DockerStage* stage_named(const std::vector<DockerStage>& stages, const std::string& name) {
  for (const auto& s : stages)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<DockerStage> dockerfile() {
  return read_dockerfile(source_dir() / "deploy/Dockerfile");
}

TEST(Dockerfile, StagesAreBuildDemoAndCorralLast) {
  const auto stages = dockerfile();
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].name, "build");
  EXPECT_EQ(stages[1].name, "demo");
  // The last stage is what `docker build` makes by default: corral alone, on the slim image.
  EXPECT_EQ(stages[2].name, "corral");
  EXPECT_EQ(stages[2].from, "debian:12-slim");
  // The demo image runs Node 20 on the same Debian release, so the same packages serve.
  EXPECT_EQ(stages[1].from, "node:20-bookworm-slim");
  EXPECT_EQ(stages[0].from, "debian:12");
}

TEST(Dockerfile, ImagesRunAsANumericNonRootUser) {
  // Numeric: Kubernetes' runAsNonRoot can check only a number.
  for (const auto& s : dockerfile()) {
    if (s.name == "build") continue;
    EXPECT_TRUE(std::regex_match(s.user, std::regex("[1-9][0-9]*")))
        << s.name << ": USER " << s.user;
    EXPECT_FALSE(s.healthcheck.empty()) << s.name << " has no HEALTHCHECK";
    ASSERT_GE(s.cmd.size(), 3u) << s.name;
    EXPECT_EQ(s.cmd[0], "run") << s.name;
  }
}

TEST(Dockerfile, EveryCMakeDependencyIsKnown) {
  auto deps = cmake_dependencies(false);
  auto test_deps = cmake_dependencies(true);
  deps.insert(test_deps.begin(), test_deps.end());
  for (const auto& d : deps)
    EXPECT_TRUE(debian_package_of.count(d))
        << "CMake needs " << d << ": add its Debian package to debian_package_of, the Dockerfile's "
        << "build stage and deploy/scripts/install-deps.sh";
  // The header-only ones are still included somewhere.
  EXPECT_NE(read_text(source_dir() / "proxy/main.cpp").find("<CLI/CLI.hpp>"), std::string::npos);
}

TEST(Dockerfile, BuildStageInstallsWhatCMakeNeedsAndNothingElse) {
  const auto stages = dockerfile();
  const DockerStage* build = stage_named(stages, "build");
  ASSERT_TRUE(build);
  std::set<std::string> wanted = build_tools;
  for (const auto& d : cmake_dependencies(false)) {
    const auto it = debian_package_of.find(d);
    if (it != debian_package_of.end() && !it->second.empty()) wanted.insert(it->second);
  }
  wanted.insert(debian_package_of.at("include:CLI/CLI.hpp"));
  EXPECT_EQ(joined(build->packages), joined(wanted));
}

TEST(Dockerfile, BuildStageMatchesInstallDeps) {
  const auto stages = dockerfile();
  const DockerStage* build = stage_named(stages, "build");
  ASSERT_TRUE(build);
  EXPECT_EQ(joined(build->packages), joined(install_deps_set("build")));
  // The tests' own dependencies are in the test set, not the build set.
  EXPECT_TRUE(install_deps_set("test").count(debian_package_of.at("GTest")));
}

TEST(Dockerfile, TablePackagesExistOnThisMachine) {
  // This machine built the tests with them: a name that dpkg does not know is a typo.
  for (const auto& [dep, package] : debian_package_of) {
    if (package.empty()) continue;
    auto r = run_command({"dpkg-query", "-W", "-f=${Status}", package}, 10s);
    EXPECT_NE(r.out.find("install ok installed"), std::string::npos) << dep << " -> " << package;
  }
}

// The Debian packages of the shared libraries the built binary links, found with ldd and dpkg.
std::set<std::string> linked_packages() {
  auto ldd = run_command({"ldd", CORRAL_BINARY}, 10s);
  EXPECT_EQ(ldd.exit_code, 0) << ldd.err;
  std::set<std::string> packages;
  const std::regex lib(R"(=>\s+(/\S+))");
  std::istringstream lines(ldd.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, lib)) continue;
    // dpkg knows a library by the path its package installed, with or without /usr (merged /usr).
    std::string path = m[1];
    auto r = run_command({"dpkg-query", "-S", path}, 10s);
    if (r.exit_code != 0 && path.starts_with("/lib"))
      r = run_command({"dpkg-query", "-S", "/usr" + path}, 10s);
    if (r.exit_code != 0) r = run_command({"dpkg-query", "-S", fs::canonical(path).string()}, 10s);
    EXPECT_EQ(r.exit_code, 0) << "no Debian package holds " << path << ": " << r.err;
    if (r.exit_code != 0) continue;
    std::string package = r.out.substr(0, r.out.find(':'));
    packages.insert(package);
  }
  return packages;
}

TEST(Dockerfile, RuntimeStagesInstallWhatTheBinaryLinks) {
  std::set<std::string> wanted;
  for (const auto& p : linked_packages())
    // The sanitizer runtimes of a CORRAL_SANITIZE build: the image builds without them.
    if (!base_image_packages.count(p) && !p.starts_with("libasan") && !p.starts_with("libubsan"))
      wanted.insert(p);
  wanted.insert("ca-certificates");  // rediss:// and upstream TLS verify against the system CAs
  for (const auto& s : dockerfile()) {
    if (s.name == "build") continue;
    EXPECT_EQ(joined(s.packages), joined(wanted)) << "stage " << s.name;
    bool copies_binary = false;
    for (const auto& c : s.copies)
      copies_binary |= c.find("--from=build /src/build/corral") != std::string::npos;
    EXPECT_TRUE(copies_binary) << "stage " << s.name << " does not take the built binary";
  }
}

TEST(Dockerfile, HealthcheckAsksTheAdminListenersHealthz) {
  Backend be("a");
  CorralConfig cfg;
  cfg.add(be);
  Corral corral(cfg);
  ClosedPort closed;
  for (const auto& s : dockerfile()) {
    if (s.healthcheck.empty()) continue;
    auto ok = run_command(s.healthcheck, 10s,
                          {{"CORRAL_ADMIN_PORT", std::to_string(corral.admin_port())}});
    EXPECT_EQ(ok.exit_code, 0) << s.name << ": " << ok.err;
    auto refused =
        run_command(s.healthcheck, 10s, {{"CORRAL_ADMIN_PORT", std::to_string(closed.port())}});
    EXPECT_NE(refused.exit_code, 0) << s.name << ": healthy with nothing listening";
  }
}

}  // namespace
}  // namespace corral::test
