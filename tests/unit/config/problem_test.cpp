#include <gtest/gtest.h>

#include "config/config.hpp"

namespace corral::config {
namespace {

TEST(Problem, FullForm) {
  Problem problem{"corral.yaml", 4, 12, "timeouts.connect", "not a duration: '2 parsecs'"};
  EXPECT_EQ(problem.to_string(), "corral.yaml:4:12: timeouts.connect: not a duration: '2 parsecs'");
}

TEST(Problem, WithoutPosition) {
  Problem problem{"corral.yaml", 0, 0, "upstreams", "at least one upstream is required"};
  EXPECT_EQ(problem.to_string(), "corral.yaml: upstreams: at least one upstream is required");
}

TEST(Problem, WithoutKey) {
  Problem problem{"missing.yaml", 0, 0, "", "cannot read file: No such file or directory"};
  EXPECT_EQ(problem.to_string(), "missing.yaml: cannot read file: No such file or directory");
}

TEST(Problem, LineWithoutColumn) {
  Problem problem{"c.yaml", 3, 0, "retries", "must be from 0 to 10, got 11"};
  EXPECT_EQ(problem.to_string(), "c.yaml:3: retries: must be from 0 to 10, got 11");
}

}  // namespace
}  // namespace corral::config
