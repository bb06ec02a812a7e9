#pragma once
// The 64-bit hash of affinity keys that consistent hashing and the affinity table share.
#include <cstdint>
#include <string_view>

namespace corral::balancer {

// XXH64 of `key` (Y. Collet's xxHash, 64-bit variant), bit-exact with the reference, so a
// stored figure can be checked against any other implementation. Fast on short keys (a session
// cookie is 20 to 100 bytes), well mixed in every output bit, and allocation-free. Not keyed:
// the same key gives the same hash in every process and on every replica, which hash mode needs
// (replicas must agree) and which lets an affinity table be handed to the next generation.
std::uint64_t hash_key(std::string_view key, std::uint64_t seed = 0);

// The splitmix64 finalizer: a bijection on 64 bits in which every input bit flips about half
// of the output bits. Derives independent per-slot figures from one key hash.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace corral::balancer
