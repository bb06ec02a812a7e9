// AffinityHandover: which snapshot each proxy generation gets, and when files go.
#include "proxy/master/affinity_handover.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "proxy/membership.hpp"

namespace corral::master {
namespace {

struct Fixture {
  std::vector<std::string> removed;
  AffinityHandover handover{[this](const std::string& f) { removed.push_back(f); }};
};

TEST(AffinityHandover, NewGenerationGetsTheCurrentOnesLatestSnapshot) {
  Fixture f;
  EXPECT_FALSE(f.handover.for_new_generation());
  EXPECT_FALSE(f.handover.on_snapshot(1, 1, "/tmp/a", ""));
  EXPECT_EQ(f.handover.for_new_generation(), "/tmp/a");
  EXPECT_FALSE(f.handover.on_snapshot(1, 1, "/tmp/a", ""));
  EXPECT_TRUE(f.removed.empty());
}

TEST(AffinityHandover, DrainingGenerationsLastSnapshotGoesToTheCurrentOne) {
  Fixture f;
  f.handover.on_snapshot(1, 1, "/tmp/a", "");
  // Generation 2 took over (it was handed /tmp/a); generation 1 drains and saves once more.
  EXPECT_EQ(f.handover.on_snapshot(1, 2, "/tmp/a", ""), "/tmp/a");
  // Generation 2 acknowledges /tmp/a with its own first snapshot: /tmp/a goes.
  EXPECT_FALSE(f.handover.on_snapshot(2, 2, "/tmp/b", "/tmp/a"));
  EXPECT_EQ(f.removed, std::vector<std::string>{"/tmp/a"});
  EXPECT_EQ(f.handover.for_new_generation(), "/tmp/b");
}

TEST(AffinityHandover, WithNoCurrentGenerationTheSnapshotWaitsForTheNext) {
  Fixture f;
  EXPECT_FALSE(f.handover.on_snapshot(3, 0, "/tmp/c", ""));
  EXPECT_EQ(f.handover.for_new_generation(), "/tmp/c");
}

TEST(AffinityHandover, RemovesWhatIsLeftAtTheEnd) {
  std::vector<std::string> removed;
  {
    AffinityHandover h([&](const std::string& f) { removed.push_back(f); });
    h.on_snapshot(1, 1, "/tmp/a", "");
    h.on_snapshot(1, 2, "/tmp/x", "");
  }
  EXPECT_EQ(removed.size(), 2u);
}

TEST(AffinityMessages, RoundTrip) {
  proxy::ControlMessage m{"affinity"};
  m.file = "/tmp/corral-affinity-1.snap";
  m.entries = 12;
  m.restored = "/tmp/corral-affinity-0.snap";
  auto back = proxy::decode(proxy::encode(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, "affinity");
  EXPECT_EQ(back->file, m.file);
  EXPECT_EQ(back->entries, 12u);
  EXPECT_EQ(back->restored, m.restored);
  EXPECT_FALSE(proxy::decode(R"({"type":"affinity"})"));
  EXPECT_TRUE(proxy::decode(R"({"type":"save"})"));

  proxy::ControlMessage stats{"stats"};
  stats.stats.push_back({0, 1, 2, 7});
  stats.stats.push_back({1, 0, 0, {}});
  back = proxy::decode(proxy::encode(stats));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stats.at(0).sessions, 7u);
  EXPECT_FALSE(back->stats.at(1).sessions);
}

}  // namespace
}  // namespace corral::master
