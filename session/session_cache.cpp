#include "session/session_cache.hpp"

namespace corral::session {

SessionCache::Entry* SessionCache::find(const SessionId& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &*it->second;
}

bool SessionCache::store(const SessionId& id, std::string_view json, clock::time_point renewed,
                         std::uint64_t epoch, std::uint32_t mark) {
  if (!enabled_ || epoch != epoch_ || max_entries_ == 0) return false;
  std::size_t c = cost(json.size());
  if (c > max_bytes_) {
    if (auto it = index_.find(id); it != index_.end()) drop(it->second);
    return false;
  }
  if (auto it = index_.find(id); it != index_.end()) {
    auto& e = *it->second;
    bytes_ = bytes_ - cost(e.json.size()) + c;
    e.json.assign(json);
    e.renewed = renewed;
    e.mark = mark;
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    lru_.push_front(Entry{id, std::string(json), renewed, mark});
    index_.emplace(id, lru_.begin());
    bytes_ += c;
  }
  while (index_.size() > max_entries_ || bytes_ > max_bytes_) drop(std::prev(lru_.end()));
  return true;
}

void SessionCache::drop(List::iterator it) {
  bytes_ -= cost(it->json.size());
  index_.erase(it->id);
  lru_.erase(it);
}

void SessionCache::erase(const SessionId& id) {
  ++epoch_;
  if (auto it = index_.find(id); it != index_.end()) drop(it->second);
}

void SessionCache::clear() {
  ++epoch_;
  index_.clear();
  lru_.clear();
  bytes_ = 0;
}

void SessionCache::enable() {
  clear();
  enabled_ = true;
}

void SessionCache::disable() {
  clear();
  enabled_ = false;
}

}  // namespace corral::session
