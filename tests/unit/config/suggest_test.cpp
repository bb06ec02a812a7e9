#include "config/suggest.hpp"

#include <gtest/gtest.h>

namespace corral::config {
namespace {

constexpr std::string_view keys[] = {"listen", "threads", "admin", "upstreams", "balance"};

TEST(EditDistance, Basics) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("balance", "balance"), 0u);
  EXPECT_EQ(edit_distance("balace", "balance"), 1u);    // deletion
  EXPECT_EQ(edit_distance("balancee", "balance"), 1u);  // insertion
  EXPECT_EQ(edit_distance("balanse", "balance"), 1u);   // replacement
  EXPECT_EQ(edit_distance("balacne", "balance"), 1u);   // neighbours swapped
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Suggest, NearMiss) {
  EXPECT_EQ(suggest("balace", keys), "balance");
  EXPECT_EQ(suggest("upstream", keys), "upstreams");
  EXPECT_EQ(suggest("lisen", keys), "listen");
  EXPECT_EQ(suggest("thraeds", keys), "threads");
}

TEST(Suggest, NothingCloseEnough) {
  EXPECT_EQ(suggest("workers", keys), std::nullopt);
  EXPECT_EQ(suggest("blnc", keys), std::nullopt);  // three edits away
}

}  // namespace
}  // namespace corral::config
