#include "proxy/compare/fairness.hpp"

#include <gtest/gtest.h>

namespace corral::compare {
namespace {

TEST(JainIndex, EvenLoadIsOne) { EXPECT_DOUBLE_EQ(jain_index({5, 5, 5, 5}), 1.0); }

TEST(JainIndex, OneWorkerDoingEverythingIsOneOverN) {
  EXPECT_DOUBLE_EQ(jain_index({12, 0, 0, 0}), 0.25);
}

TEST(JainIndex, KnownValue) {
  // (1+2+3)^2 / (3 * (1+4+9)) = 36 / 42
  EXPECT_NEAR(jain_index({1, 2, 3}), 36.0 / 42.0, 1e-12);
}

TEST(JainIndex, NoLoadAndNoWorkersAreFair) {
  EXPECT_DOUBLE_EQ(jain_index({0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(jain_index({}), 1.0);
}

TEST(Shares, FractionsOfTheTotal) {
  auto s = shares({1, 3});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_DOUBLE_EQ(s[0], 0.25);
  EXPECT_DOUBLE_EQ(s[1], 0.75);
  EXPECT_EQ(shares({0, 0}), (std::vector<double>{0, 0}));
}

}  // namespace
}  // namespace corral::compare
