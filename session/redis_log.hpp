#pragma once
// What the log says about one Redis server, shared by every proxy thread's connection to it:
// each thread has its own connection, but an outage is one event, so it is told once ("Redis
// connection lost" by the first connection that goes down, "connected to Redis" by the first
// that comes back), not once per thread.
#include <atomic>
#include <string>

namespace corral::session {

// The transitions of one Redis server's connections, and which of them to log.
class RedisLog {
 public:
  // The one for `key` (a store's name and address) in this process; lives as long as it.
  static RedisLog& shared(const std::string& key);

  // A connection became ready. True when this is the news to log: the first connection ever,
  // or the first since one was reported lost.
  bool on_up();
  // A ready connection went down. True when it is the first since the last on_up that logged.
  bool on_lost();
  // A connection that was not ready failed to connect. True once until the next on_up.
  bool on_unreachable();

 private:
  std::atomic<bool> ever_up_{false};
  std::atomic<bool> lost_logged_{false};
  std::atomic<bool> unreachable_logged_{false};
};

}  // namespace corral::session
