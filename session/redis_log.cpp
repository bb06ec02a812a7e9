#include "session/redis_log.hpp"

#include <map>
#include <memory>
#include <mutex>

namespace corral::session {

RedisLog& RedisLog::shared(const std::string& key) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<RedisLog>> logs;
  std::lock_guard lock(mu);
  auto& log = logs[key];
  if (!log) log = std::make_unique<RedisLog>();
  return *log;
}

bool RedisLog::on_up() {
  unreachable_logged_.store(false, std::memory_order_relaxed);
  const bool first = !ever_up_.exchange(true, std::memory_order_relaxed);
  const bool back = lost_logged_.exchange(false, std::memory_order_relaxed);
  return first || back;
}

bool RedisLog::on_lost() { return !lost_logged_.exchange(true, std::memory_order_relaxed); }

bool RedisLog::on_unreachable() {
  return !unreachable_logged_.exchange(true, std::memory_order_relaxed);
}

}  // namespace corral::session
