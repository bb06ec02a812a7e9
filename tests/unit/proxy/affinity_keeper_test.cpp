// AffinityKeeper: snapshot files written for the master and restored by the next generation.
#include "proxy/affinity_keeper.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace corral::proxy {
namespace {

using Clock = std::chrono::steady_clock;

TEST(AffinityKeeper, SnapshotFileRestoresIntoAnotherTable) {
  asio::io_context ioc;
  session::AffinityTable table;
  table.learn("alice", 2, Clock::now());
  table.learn("bob", 0, Clock::now());
  std::string saved_file, restored;
  std::uint64_t saved_entries = 0;
  AffinityKeeper keeper(ioc, table,
                        [&](const std::string& f, std::uint64_t n, const std::string& r) {
                          saved_file = f;
                          saved_entries = n;
                          restored = r;
                        });
  ASSERT_TRUE(keeper.save_now());
  EXPECT_EQ(saved_file, AffinityKeeper::file_for_this_process());
  EXPECT_TRUE(AffinityKeeper::is_snapshot_file(saved_file));
  EXPECT_EQ(saved_entries, 2u);
  EXPECT_EQ(restored, "");
  EXPECT_EQ(std::filesystem::status(saved_file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // The next generation (here: another table in the same process) restores it, and says so
  // in its next report.
  session::AffinityTable next;
  next.learn("carol", 1, Clock::now());
  AffinityKeeper next_keeper(ioc, next,
                             [&](const std::string&, std::uint64_t n, const std::string& r) {
                               saved_entries = n;
                               restored = r;
                             });
  ASSERT_TRUE(next_keeper.restore_from(saved_file));
  EXPECT_EQ(next.lookup("alice", Clock::now()), 2u);
  EXPECT_EQ(next.lookup("bob", Clock::now()), 0u);
  EXPECT_EQ(next.lookup("carol", Clock::now()), 1u);
  ASSERT_TRUE(next_keeper.save_now());
  EXPECT_EQ(saved_entries, 3u);
  EXPECT_EQ(restored, saved_file);
  std::filesystem::remove(saved_file);
}

TEST(AffinityKeeper, UnreadableOrForeignFilesChangeNothing) {
  asio::io_context ioc;
  session::AffinityTable table;
  table.learn("alice", 2, Clock::now());
  AffinityKeeper keeper(ioc, table, {});
  EXPECT_FALSE(keeper.save_now()) << "without a master there is nobody to hand a snapshot to";
  EXPECT_FALSE(keeper.restore_from("/nonexistent/corral-affinity-1.snap"));
  const auto junk = std::filesystem::temp_directory_path() /
                    ("corral-affinity-test-" + std::to_string(::getpid()) + ".snap");
  std::ofstream(junk) << "not a snapshot";
  EXPECT_FALSE(keeper.restore_from(junk.string()));
  std::filesystem::remove(junk);
  EXPECT_EQ(table.size(), 1u);

  EXPECT_FALSE(AffinityKeeper::is_snapshot_file("/etc/passwd"));
  EXPECT_FALSE(AffinityKeeper::is_snapshot_file(
      (std::filesystem::temp_directory_path() / "other.snap").string()));
}

}  // namespace
}  // namespace corral::proxy
