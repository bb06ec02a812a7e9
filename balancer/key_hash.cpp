#include "balancer/key_hash.hpp"

#include <bit>
#include <cstddef>
#include <cstring>

namespace corral::balancer {

namespace {

static_assert(std::endian::native == std::endian::little,
              "hash_key reads words little-endian, as the XXH64 reference does");

constexpr std::uint64_t p1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t p2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t p3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t p4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t p5 = 0x27D4EB2F165667C5ULL;

std::uint64_t read64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint32_t read32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t round(std::uint64_t acc, std::uint64_t input) {
  acc += input * p2;
  acc = std::rotl(acc, 31);
  return acc * p1;
}

std::uint64_t merge_round(std::uint64_t acc, std::uint64_t v) {
  acc ^= round(0, v);
  return acc * p1 + p4;
}

}  // namespace

std::uint64_t hash_key(std::string_view key, std::uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t len = key.size();
  const unsigned char* const end = p + len;
  std::uint64_t h;

  if (len >= 32) {
    std::uint64_t v1 = seed + p1 + p2;
    std::uint64_t v2 = seed + p2;
    std::uint64_t v3 = seed;
    std::uint64_t v4 = seed - p1;
    const unsigned char* const limit = end - 32;
    do {
      v1 = round(v1, read64(p));
      v2 = round(v2, read64(p + 8));
      v3 = round(v3, read64(p + 16));
      v4 = round(v4, read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = std::rotl(v1, 1) + std::rotl(v2, 7) + std::rotl(v3, 12) + std::rotl(v4, 18);
    h = merge_round(h, v1);
    h = merge_round(h, v2);
    h = merge_round(h, v3);
    h = merge_round(h, v4);
  } else {
    h = seed + p5;
  }
  h += len;

  while (end - p >= 8) {
    h ^= round(0, read64(p));
    h = std::rotl(h, 27) * p1 + p4;
    p += 8;
  }
  if (end - p >= 4) {
    h ^= std::uint64_t{read32(p)} * p1;
    h = std::rotl(h, 23) * p2 + p3;
    p += 4;
  }
  while (p < end) {
    h ^= std::uint64_t{*p} * p5;
    h = std::rotl(h, 11) * p1;
    ++p;
  }

  h ^= h >> 33;
  h *= p2;
  h ^= h >> 29;
  h *= p3;
  h ^= h >> 32;
  return h;
}

}  // namespace corral::balancer
