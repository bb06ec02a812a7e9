#include "proxy/ticket_keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace corral::proxy {
namespace {

using namespace std::chrono_literals;
using Clock = TicketKeys::Clock;

// Every byte of the n-th key is n: keys are told apart by their first name byte.
TicketKeys::Random counting() {
  auto n = std::make_shared<int>(0);
  auto calls = std::make_shared<int>(0);
  return [n, calls](unsigned char* out, std::size_t size) {
    if ((*calls)++ % 3 == 0) ++*n;  // name, aes, hmac: one key
    std::fill(out, out + size, static_cast<unsigned char>(*n));
  };
}

TEST(TicketKeys, SameKeyWithinTheInterval) {
  TicketKeys keys(1h, 3, counting());
  const Clock::time_point t0{};
  auto a = keys.current(t0 + 1s);
  auto b = keys.current(t0 + 59min);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.name[0], 1);
  EXPECT_EQ(a.aes[0], 1);
  EXPECT_EQ(a.hmac[0], 1);
}

TEST(TicketKeys, RotatesAndOldKeysStillOpenTicketsThenExpire) {
  TicketKeys keys(1h, 3, counting());
  const Clock::time_point t0{};
  auto first = keys.current(t0);
  auto found = keys.find(first.name.data(), t0 + 10min);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->current);

  auto second = keys.current(t0 + 1h);
  EXPECT_EQ(second.name[0], 2);
  found = keys.find(first.name.data(), t0 + 1h);
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->current);  // the ticket is renewed under the new key
  EXPECT_EQ(found->key.aes, first.aes);

  // Kept for 3 intervals from its making; gone after.
  EXPECT_TRUE(keys.find(first.name.data(), t0 + 2h + 59min));
  EXPECT_FALSE(keys.find(first.name.data(), t0 + 3h));
  EXPECT_TRUE(keys.find(second.name.data(), t0 + 3h));
}

TEST(TicketKeys, UnknownNameIsNotFound) {
  TicketKeys keys(1h, 3, counting());
  keys.current(Clock::time_point{});
  const unsigned char other[16] = {99};
  EXPECT_FALSE(keys.find(other, Clock::time_point{} + 1s));
}

TEST(TicketKeys, LifetimeToldToClients) {
  TicketKeys keys(1h, 3, counting());
  EXPECT_EQ(keys.lifetime(), 2h);
}

}  // namespace
}  // namespace corral::proxy
