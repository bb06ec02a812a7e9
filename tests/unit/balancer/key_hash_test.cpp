#include "balancer/key_hash.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>

namespace corral::balancer {
namespace {

// The a..z alphabet repeated to `n` characters.
std::string letters(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('a' + i % 26);
  return s;
}

// Figures of the reference XXH64 (libxxhash 0.8): hash mode placements and affinity table
// snapshots depend on them staying put.
TEST(KeyHash, MatchesTheXxh64Reference) {
  EXPECT_EQ(hash_key(""), 0xef46db3751d8e999ULL);
  EXPECT_EQ(hash_key("a"), 0xd24ec4f1a98c6e5bULL);
  EXPECT_EQ(hash_key("abc"), 0x44bc2cf5ad770999ULL);
  EXPECT_EQ(hash_key("message digest"), 0x066ed728fceeb3beULL);
}

TEST(KeyHash, MatchesTheReferenceAcrossTheStripeBoundary) {
  EXPECT_EQ(hash_key(letters(7)), 0x1860940e2902822dULL);    // bytes only
  EXPECT_EQ(hash_key(letters(31)), 0xf7d421c242541ac9ULL);   // words, a half word and bytes
  EXPECT_EQ(hash_key(letters(32)), 0x4da6cbe536cf55c7ULL);   // one 32-byte stripe
  EXPECT_EQ(hash_key(letters(100)), 0x79c9fa152bb53c71ULL);  // stripes and a tail
  EXPECT_EQ(hash_key("sid=s%3AAbCdEf0123456789.xyz-session-cookie-value"), 0x2cef25a781a04a7fULL);
}

TEST(KeyHash, HonoursTheSeed) {
  EXPECT_EQ(hash_key(letters(100), 0x9E3779B97F4A7C15ULL), 0x0fca4606cee12f51ULL);
}

TEST(KeyHash, OneBitOfInputFlipsAboutHalfTheOutput) {
  const std::string base = letters(40);
  for (std::size_t bit = 0; bit < base.size() * 8; ++bit) {
    std::string flipped = base;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    const int changed = std::popcount(hash_key(base) ^ hash_key(flipped));
    EXPECT_GT(changed, 12) << "bit " << bit;
    EXPECT_LT(changed, 52) << "bit " << bit;
  }
}

TEST(Mix64, IsTheSplitmix64Finalizer) {
  EXPECT_EQ(mix64(0), 0u);
  // splitmix64's first output from seed 0 is mix64(0x9E3779B97F4A7C15).
  EXPECT_EQ(mix64(0x9E3779B97F4A7C15ULL), 0xe220a8397b1dcdafULL);
}

}  // namespace
}  // namespace corral::balancer
