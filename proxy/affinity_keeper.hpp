#pragma once
// Learn mode's table over time, on the proxy's control thread: a periodic sweep of idle pins,
// and snapshots written to a file the master hands to the next proxy generation, so the learned
// pins survive a hot reload (`corral reload --config`) and a proxy restart by the master.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "proxy/asio.hpp"
#include "session/affinity_table.hpp"

namespace corral::proxy {

class AffinityKeeper {
 public:
  // Called after each snapshot written, with its file, its entry count and the snapshot file
  // restored since the previous call (empty when none), to tell the master.
  using OnSaved = std::function<void(const std::string& file, std::uint64_t entries,
                                     const std::string& restored)>;

  // With an empty `on_saved` (no master to hand snapshots to) it only sweeps.
  AffinityKeeper(asio::io_context& control, session::AffinityTable& table, OnSaved on_saved);
  ~AffinityKeeper();

  void start();
  void stop();

  // Adds the pins of a snapshot file (a newer pin of the same key wins). False, with the table
  // unchanged, when the file cannot be read or is not a snapshot.
  bool restore_from(const std::string& file);
  // Writes a snapshot now (the last one, on drain) and reports it. False when it failed.
  bool save_now();

  // The snapshot file of this process: the temporary directory, corral-affinity-<pid>.snap.
  static std::string file_for_this_process();
  // Whether `file` looks like a path file_for_this_process() gives (the master deletes only those).
  static bool is_snapshot_file(const std::string& file);

  static constexpr std::chrono::seconds sweep_every{10};
  static constexpr std::chrono::seconds save_every{5};    // when pins changed
  static constexpr std::chrono::seconds save_anyway{60};  // refreshes the ages

 private:
  awaitable<void> loop();
  bool changed_since_save() const;

  asio::io_context& control_;
  session::AffinityTable& table_;
  OnSaved on_saved_;
  asio::steady_timer timer_;
  std::string file_;
  std::string restored_;  // restored since the last report
  bool stopped_ = false;
  std::uint64_t saved_learned_ = 0;
  std::uint64_t saved_forgotten_ = 0;
  std::size_t saved_size_ = 0;
  std::chrono::steady_clock::time_point saved_at_{};
};

}  // namespace corral::proxy
