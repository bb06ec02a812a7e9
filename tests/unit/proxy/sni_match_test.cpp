#include "proxy/sni_match.hpp"

#include <gtest/gtest.h>

namespace corral::proxy {
namespace {

const std::vector<std::vector<std::string>> names = {
    {"default.test"},
    {"a.test", "www.a.test"},
    {"*.b.test"},
    {"exact.b.test"},
};

TEST(PickCertificate, ExactNameCaseInsensitive) {
  EXPECT_EQ(pick_certificate(names, "a.test"), 1u);
  EXPECT_EQ(pick_certificate(names, "WWW.A.Test"), 1u);
  EXPECT_EQ(pick_certificate(names, "a.test."), 1u);  // a fully qualified name
}

TEST(PickCertificate, ExactBeatsWildcard) {
  EXPECT_EQ(pick_certificate(names, "exact.b.test"), 3u);
  EXPECT_EQ(pick_certificate(names, "other.b.test"), 2u);
}

TEST(PickCertificate, WildcardCoversOneLabelOnly) {
  EXPECT_EQ(pick_certificate(names, "b.test"), 0u);
  EXPECT_EQ(pick_certificate(names, "x.y.b.test"), 0u);
  EXPECT_EQ(pick_certificate(names, ".b.test"), 0u);
}

TEST(PickCertificate, UnknownOrEmptyGivesTheDefault) {
  EXPECT_EQ(pick_certificate(names, "nowhere.test"), 0u);
  EXPECT_EQ(pick_certificate(names, ""), 0u);
  EXPECT_EQ(pick_certificate({}, "a.test"), 0u);
}

}  // namespace
}  // namespace corral::proxy
