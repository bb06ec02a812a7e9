// The memory an affinity table costs per entry, measured at a million entries: the figure
// docs/sticky.md reports. Two independent measures: the table's own account of its heap and
// what the allocator says it handed out (glibc's mallinfo2), with the resident set as a check.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string_view>

#include "session/affinity_table.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#endif

// AddressSanitizer brings its own allocator, which mallinfo2 does not see.
#if defined(__SANITIZE_ADDRESS__)
#define CORRAL_OWN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORRAL_OWN_ALLOCATOR 1
#endif
#endif
#if defined(__GLIBC__) && !defined(CORRAL_OWN_ALLOCATOR)
#define CORRAL_MALLINFO 1
#endif

namespace corral::session {
namespace {

constexpr double budget_bytes_per_entry = 150;

// A 32-character key for `i`, like a session id, built without allocating.
std::string_view key_of(std::uint64_t i, char (&buffer)[32]) {
  static constexpr char hex[] = "0123456789abcdef";
  std::uint64_t x = i * 0x9E3779B97F4A7C15ULL + 1;
  for (int k = 0; k < 32; ++k) {
    buffer[k] = hex[x & 15];
    x = (x >> 4) | (x << 60);
    if (k == 15) x = x * 0xbf58476d1ce4e5b9ULL + i;
  }
  return {buffer, sizeof buffer};
}

std::size_t heap_in_use() {
#if defined(CORRAL_MALLINFO)
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#else
  return 0;
#endif
}

std::size_t resident_bytes() {
#if defined(__GLIBC__)
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
#else
  return 0;
#endif
}

void measure(std::size_t learned) {
  const auto now = AffinityTable::TimePoint{std::chrono::hours{1}};
  const std::size_t heap_before = heap_in_use();
  const std::size_t resident_before = resident_bytes();
  {
    AffinityTable table;  // max_entries 1,000,000, 16 shards
    char buffer[32];
    for (std::uint64_t i = 0; i < learned; ++i)
      table.learn(key_of(i, buffer), static_cast<SlotId>(i % 8), now);
    const double size = static_cast<double>(table.size());
    const double own = static_cast<double>(table.memory_bytes()) / size;
    const double heap = static_cast<double>(heap_in_use() - heap_before) / size;
    const double resident = static_cast<double>(resident_bytes() - resident_before) / size;
#if defined(CORRAL_MALLINFO)
    std::printf(
        "[ MEMORY   ] %zu learned, %.0f entries: %.1f bytes/entry (table), "
        "%.1f (allocator), %.1f (resident set)\n",
        learned, size, own, heap, resident);
#else
    std::printf(
        "[ MEMORY   ] %zu learned, %.0f entries: %.1f bytes/entry (table), "
        "%.1f (resident set, sanitizer allocator)\n",
        learned, size, own, resident);
#endif
    ::testing::Test::RecordProperty("bytes_per_entry", std::to_string(own));
    EXPECT_LE(own, budget_bytes_per_entry);
#if defined(CORRAL_MALLINFO)
    EXPECT_LE(heap, budget_bytes_per_entry);
    EXPECT_GE(heap, own * 0.9) << "the table's own account misses some of its heap";
#endif
  }
}

TEST(AffinityTableMemory, AMillionEntriesFitTheBudget) { measure(1'000'000); }

// Part way to a doubling, where the entry arrays carry the most spare room.
TEST(AffinityTableMemory, AHalfFullTableFitsTheBudget) { measure(550'000); }

}  // namespace
}  // namespace corral::session
