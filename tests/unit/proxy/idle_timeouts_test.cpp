#include "proxy/idle_timeouts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::proxy {
namespace {

using namespace std::chrono_literals;

// An entry that records the order in which entries expire.
struct Recorder final : IdleTimeouts::Entry {
  Recorder(std::string n, std::vector<std::string>& log) : name(std::move(n)), log(log) {}
  static void expire(IdleTimeouts::Entry& e) {
    auto& r = static_cast<Recorder&>(e);
    r.log.push_back(r.name);
  }
  std::string name;
  std::vector<std::string>& log;
};

TEST(IdleTimeouts, EntriesExpireInDeadlineOrderAcrossLanes) {
  asio::io_context ioc;
  IdleTimeouts idle(ioc, &Recorder::expire);
  std::vector<std::string> log;
  Recorder slow("slow", log), fast("fast", log), fast2("fast2", log);
  idle.add(slow, 60ms);
  idle.add(fast, 10ms);  // a new lane with an earlier head moves the timer earlier
  idle.add(fast2, 10ms);
  EXPECT_EQ(idle.size(), 3u);
  ioc.run();  // returns when the last deadline has passed and nothing waits
  EXPECT_EQ(log, (std::vector<std::string>{"fast", "fast2", "slow"}));
  EXPECT_EQ(idle.size(), 0u);
  EXPECT_FALSE(slow.waiting());
}

TEST(IdleTimeouts, RemovedAndDestroyedEntriesDoNotExpire) {
  asio::io_context ioc;
  IdleTimeouts idle(ioc, &Recorder::expire);
  std::vector<std::string> log;
  Recorder kept("kept", log), removed("removed", log);
  idle.add(removed, 5ms);
  idle.add(kept, 20ms);
  {
    Recorder gone("gone", log);
    idle.add(gone, 5ms);
  }  // leaves its lane as it is destroyed
  IdleTimeouts::remove(removed);
  EXPECT_FALSE(removed.waiting());
  ioc.run();
  EXPECT_EQ(log, std::vector<std::string>{"kept"});
}

TEST(IdleTimeouts, AddingAgainMovesTheEntryToItsNewLane) {
  asio::io_context ioc;
  IdleTimeouts idle(ioc, &Recorder::expire);
  std::vector<std::string> log;
  Recorder a("a", log), b("b", log);
  idle.add(a, 1h);
  idle.add(b, 30ms);
  idle.add(a, 10ms);  // as a drain does: the long wait becomes a short grace
  EXPECT_EQ(idle.size(), 2u);
  const auto start = std::chrono::steady_clock::now();
  ioc.run();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
}

TEST(IdleTimeouts, CloseStopsExpiry) {
  asio::io_context ioc;
  IdleTimeouts idle(ioc, &Recorder::expire);
  std::vector<std::string> log;
  Recorder a("a", log);
  idle.add(a, 5ms);
  idle.close();
  ioc.run();
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(a.waiting());
  IdleTimeouts::remove(a);
}

}  // namespace
}  // namespace corral::proxy
