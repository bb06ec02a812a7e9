#include "proxy/affinity_keeper.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace corral::proxy {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view file_prefix = "corral-affinity-";
constexpr std::string_view file_suffix = ".snap";

std::string temp_directory() {
  std::error_code ec;
  auto dir = std::filesystem::temp_directory_path(ec);
  return ec ? std::string("/tmp") : dir.string();
}

// Writes `bytes` to `path` through a private temporary file and a rename, so a reader never
// sees half a snapshot and nothing is written through a link planted at either name.
bool write_file(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

AffinityKeeper::AffinityKeeper(asio::io_context& control, session::AffinityTable& table,
                               OnSaved on_saved)
    : control_(control), table_(table), on_saved_(std::move(on_saved)), timer_(control) {
  if (on_saved_) file_ = file_for_this_process();
}

AffinityKeeper::~AffinityKeeper() = default;

std::string AffinityKeeper::file_for_this_process() {
  const std::string name =
      std::string(file_prefix) + std::to_string(::getpid()) + std::string(file_suffix);
  return (std::filesystem::path(temp_directory()) / name).string();
}

bool AffinityKeeper::is_snapshot_file(const std::string& file) {
  const std::string name = std::filesystem::path(file).filename().string();
  return name.starts_with(file_prefix) && name.ends_with(file_suffix) &&
         file == (std::filesystem::path(temp_directory()) / name).string();
}

void AffinityKeeper::start() { asio::co_spawn(control_, loop(), asio::detached); }

void AffinityKeeper::stop() {
  stopped_ = true;
  timer_.cancel();
}

awaitable<void> AffinityKeeper::loop() {
  auto next_sweep = Clock::now() + sweep_every;
  saved_at_ = Clock::now();
  while (!stopped_) {
    timer_.expires_after(save_every);
    auto [ec] = co_await timer_.async_wait(nothrow);
    if (ec || stopped_) co_return;
    const auto now = Clock::now();
    if (now >= next_sweep) {
      next_sweep = now + sweep_every;
      table_.sweep(now);
    }
    if (on_saved_ &&
        (changed_since_save() || (now - saved_at_ >= save_anyway && table_.size() > 0)))
      save_now();
  }
}

bool AffinityKeeper::changed_since_save() const {
  const auto c = table_.counters();
  return c.learned != saved_learned_ || c.forgotten != saved_forgotten_ ||
         table_.size() != saved_size_;
}

bool AffinityKeeper::save_now() {
  if (!on_saved_) return false;
  const auto c = table_.counters();
  const auto now = Clock::now();
  const std::string bytes = table_.snapshot(now);
  saved_learned_ = c.learned;
  saved_forgotten_ = c.forgotten;
  saved_size_ = table_.size();
  saved_at_ = now;
  if (!write_file(file_, bytes)) {
    spdlog::warn("sticky: cannot write the affinity snapshot {}: {}", file_, std::strerror(errno));
    return false;
  }
  on_saved_(file_, saved_size_, restored_);
  restored_.clear();
  return true;
}

bool AffinityKeeper::restore_from(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    spdlog::warn("sticky: cannot read the affinity snapshot {}", file);
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto before = table_.size();
  if (!table_.restore(bytes, Clock::now())) {
    spdlog::warn("sticky: {} is not an affinity snapshot; ignored", file);
    return false;
  }
  spdlog::info("sticky: restored {} session pin(s) from the previous proxy generation",
               table_.size() - std::min(before, table_.size()));
  restored_ = file;
  // Acknowledge soon: the master deletes the file once this generation holds its pins.
  saved_size_ = static_cast<std::size_t>(-1);
  return true;
}

}  // namespace corral::proxy
