#pragma once
// Insert mode without a configured key: the master makes a random one, once for its lifetime.
#include "config/config.hpp"

namespace corral::master {

// With balance: sticky, mode: insert and neither sticky.key nor sticky.key_env, sets
// config::generated_insert_key_env in the master's environment to 32 random bytes (hex) unless
// it is set already, and warns once that instances sharing clients need a key of their own
// choosing. Every proxy generation inherits it, so corral_affinity cookies stay valid across
// `reload --config` and proxy restarts; they do not survive the master.
void ensure_insert_key(const config::Config& config);

}  // namespace corral::master
