#include "proxy/master/affinity_handover.hpp"

#include <utility>

namespace corral::master {

AffinityHandover::AffinityHandover(Remove remove) : remove_(std::move(remove)) {}

AffinityHandover::~AffinityHandover() {
  for (const auto& f : files_) remove_(f);
}

std::optional<std::string> AffinityHandover::on_snapshot(std::uint64_t from, std::uint64_t current,
                                                         const std::string& file,
                                                         const std::string& restored) {
  files_.insert(file);
  if (from == current) {
    latest_ = file;
    // The current generation holds what it restored: that file served its purpose. A file that
    // is still the latest of another generation is kept until it is superseded the same way.
    if (!restored.empty() && restored != file && files_.erase(restored)) remove_(restored);
    return std::nullopt;
  }
  if (current == 0) {
    // No generation accepts right now (the current one died): the next one gets this.
    latest_ = file;
    return std::nullopt;
  }
  // A draining generation's last pins: the current one merges them (newer pins win).
  return file;
}

std::optional<std::string> AffinityHandover::for_new_generation() const {
  if (latest_.empty()) return std::nullopt;
  return latest_;
}

}  // namespace corral::master
