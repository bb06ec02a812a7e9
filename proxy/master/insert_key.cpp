#include "proxy/master/insert_key.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "config/validate.hpp"

namespace corral::master {

void ensure_insert_key(const config::Config& config) {
  if (config.balance != config::Balance::sticky || !config.sticky) return;
  const config::Sticky& s = *config.sticky;
  if (s.mode != config::StickyMode::insert || !s.key.empty() || !s.key_env.empty()) return;
  if (std::getenv(config::generated_insert_key_env) != nullptr) return;
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("no random bytes for the sticky insert key");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  ::setenv(config::generated_insert_key_env, hex.c_str(), 1);
  spdlog::warn(
      "sticky: insert mode has no key (sticky.key or sticky.key_env): corral_affinity is signed "
      "with a random key made for this master's lifetime; corral instances that share clients "
      "need one key, given to each");
}

}  // namespace corral::master
