// The sticky store's pure parts: its Redis keys and how a stored slot is read back.
#include <gtest/gtest.h>

#include <array>

#include "session/affinity_store.hpp"
#include "session/affinity_table.hpp"

namespace corral::session {
namespace {

TEST(AffinityStoreKey, PrefixAndSixteenHexDigits) {
  std::array<char, max_affinity_prefix + 16> buf;
  EXPECT_EQ(affinity_store_key("corral:affinity:", 0x0123456789abcdefULL, buf.data()),
            "corral:affinity:0123456789abcdef");
  EXPECT_EQ(affinity_store_key("p:", 0, buf.data()), "p:0000000000000000");
  EXPECT_EQ(affinity_store_key("", ~0ULL, buf.data()), "ffffffffffffffff");
  const std::string long_prefix(max_affinity_prefix, 'x');
  EXPECT_EQ(affinity_store_key(long_prefix, 1, buf.data()), long_prefix + "0000000000000001");
}

TEST(AffinityStoreKey, HoldsTheFingerprintNotTheCookie) {
  std::array<char, max_affinity_prefix + 16> buf;
  const std::string_view cookie = "s%3AsecretSessionId.signature";
  auto key = affinity_store_key("c:", AffinityTable::fingerprint(cookie), buf.data());
  EXPECT_EQ(key.find("secret"), std::string_view::npos);
  EXPECT_EQ(key.size(), 18u);
  // The same key on every instance and every run: fingerprints are not seeded.
  std::array<char, max_affinity_prefix + 16> again;
  EXPECT_EQ(affinity_store_key("c:", AffinityTable::fingerprint(cookie), again.data()), key);
}

TEST(AffinityStoreSlot, ParsesOnlySlotsThatExistHere) {
  EXPECT_EQ(parse_affinity_slot("0", 4), 0u);
  EXPECT_EQ(parse_affinity_slot("3", 4), 3u);
  EXPECT_EQ(parse_affinity_slot("4", 4), std::nullopt);  // another instance has more slots
  EXPECT_EQ(parse_affinity_slot("", 4), std::nullopt);
  EXPECT_EQ(parse_affinity_slot("-1", 4), std::nullopt);
  EXPECT_EQ(parse_affinity_slot("1x", 4), std::nullopt);
  EXPECT_EQ(parse_affinity_slot(" 1", 4), std::nullopt);
  EXPECT_EQ(parse_affinity_slot("99999999999999999999", 4), std::nullopt);
}

}  // namespace
}  // namespace corral::session
