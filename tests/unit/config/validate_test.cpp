#include "config/validate.hpp"

#include <gtest/gtest.h>

#include "config/address.hpp"

namespace corral::config {
namespace {

Address address(std::string_view text) { return parse_address(text).value(); }

// The smallest config that passes.
Config minimal() {
  Config config;
  config.source = "test.yaml";
  config.listen = {{address("127.0.0.1:8080")}};
  config.upstreams = {Upstream{address("127.0.0.1:3000"), 1}};
  return config;
}

std::vector<std::string> keys_of(const std::vector<Problem>& problems) {
  std::vector<std::string> keys;
  for (const Problem& problem : problems) keys.push_back(problem.key);
  return keys;
}

TEST(Validate, MinimalConfigPasses) { EXPECT_TRUE(validate(minimal()).empty()); }

TEST(Validate, RequiresListenAndUpstreams) {
  Config config;
  config.source = "test.yaml";
  auto problems = validate(config);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].to_string(), "test.yaml: listen: at least one listen address is required");
  EXPECT_EQ(problems[1].to_string(), "test.yaml: upstreams: at least one upstream is required (or a workers: section)");
}

TEST(Validate, DuplicateListen) {
  Config config = minimal();
  config.listen.push_back({address("127.0.0.1:9000")});
  config.listen.push_back({address("127.0.0.1:8080")});
  auto problems = validate(config);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].key, "listen[2]");
  EXPECT_EQ(problems[0].message, "'127.0.0.1:8080' clashes with listen[0] '127.0.0.1:8080'");
}

TEST(Validate, WildcardClashesWithEveryHostOnItsPort) {
  Config config = minimal();
  config.listen.push_back({address("0.0.0.0:8080")});
  config.listen.push_back({address("[::]:8080")});
  EXPECT_EQ(keys_of(validate(config)), (std::vector<std::string>{"listen[1]", "listen[2]"}));
}

TEST(Validate, PortZeroNeverClashes) {
  Config config = minimal();
  config.listen = {{address("127.0.0.1:0")}, {address("127.0.0.1:0")}};
  config.admin = address("127.0.0.1:0");
  EXPECT_TRUE(validate(config).empty());
}

TEST(Validate, AdminMustNotBeAListenAddress) {
  Config config = minimal();
  config.admin = address("127.0.0.1:8080");
  auto problems = validate(config);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].key, "admin");
  EXPECT_EQ(problems[0].message,
            "'127.0.0.1:8080' clashes with listen[0] '127.0.0.1:8080'; the admin listener needs "
            "its own port");
}

TEST(Validate, WeightRange) {
  Config config = minimal();
  config.upstreams.push_back(Upstream{address("127.0.0.1:3001"), 0});
  config.upstreams.push_back(Upstream{address("127.0.0.1:3002"), 1000});
  config.upstreams.push_back(Upstream{address("127.0.0.1:3003"), 1001});
  auto problems = validate(config);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].key, "upstreams[1].weight");
  EXPECT_EQ(problems[0].message, "must be from 1 to 1000, got 0");
  EXPECT_EQ(problems[1].key, "upstreams[3].weight");
  EXPECT_EQ(problems[1].message, "must be from 1 to 1000, got 1001");
}

TEST(Validate, UpstreamPortZero) {
  Config config = minimal();
  config.upstreams[0].address = address("127.0.0.1:0");
  EXPECT_EQ(keys_of(validate(config)), (std::vector<std::string>{"upstreams[0].address"}));
}

TEST(Validate, TimeoutsMustBePositive) {
  Config config = minimal();
  config.timeouts.connect = Duration(0);
  config.timeouts.drain = Duration(0);
  auto problems = validate(config);
  EXPECT_EQ(keys_of(problems), (std::vector<std::string>{"timeouts.connect", "timeouts.drain"}));
  EXPECT_EQ(problems[0].message, "must be more than 0");
}

TEST(Validate, Limits) {
  Config config = minimal();
  config.limits.max_header_bytes = 1023;
  config.limits.max_connections = 0;
  auto problems = validate(config);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].key, "limits.max_header_bytes");
  EXPECT_EQ(problems[0].message, "must be from 1KiB to 1MiB, got 1023 bytes");
  EXPECT_EQ(problems[1].key, "limits.max_connections");

  config.limits.max_header_bytes = 1024;
  config.limits.max_connections = 1;
  EXPECT_TRUE(validate(config).empty());
  config.limits.max_header_bytes = 1024 * 1024 + 1;
  EXPECT_EQ(keys_of(validate(config)), (std::vector<std::string>{"limits.max_header_bytes"}));
}

TEST(Validate, RetriesAndThreads) {
  Config config = minimal();
  config.retries = 10;
  EXPECT_TRUE(validate(config).empty());
  config.retries = 11;
  config.threads = 5000;
  EXPECT_EQ(keys_of(validate(config)), (std::vector<std::string>{"threads", "retries"}));
}

TEST(Validate, HealthOnlyWhenEnabled) {
  Config config = minimal();
  config.health.path = "health";
  config.health.interval = Duration(0);
  EXPECT_TRUE(validate(config).empty());
  config.health.enabled = true;
  EXPECT_EQ(keys_of(validate(config)),
            (std::vector<std::string>{"health.path", "health.interval"}));
}

}  // namespace
}  // namespace corral::config
