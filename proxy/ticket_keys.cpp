#include "proxy/ticket_keys.hpp"

#include <algorithm>
#include <cstring>

namespace corral::proxy {

TicketKeys::TicketKeys(Clock::duration interval, unsigned kept, Random random)
    : interval_(interval), kept_(std::max(kept, 2u)), random_(std::move(random)) {}

void TicketKeys::rotate_if_due(Clock::time_point now) {
  if (!keys_.empty() && now - keys_.front().made < interval_) return;
  Entry e;
  random_(e.key.name.data(), e.key.name.size());
  random_(e.key.aes.data(), e.key.aes.size());
  random_(e.key.hmac.data(), e.key.hmac.size());
  e.made = now;
  keys_.push_front(e);
  while (keys_.size() > kept_) keys_.pop_back();
}

TicketKeys::Key TicketKeys::current(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  rotate_if_due(now);
  return keys_.front().key;
}

std::optional<TicketKeys::Found> TicketKeys::find(const unsigned char* name, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  rotate_if_due(now);
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Entry& e = keys_[i];
    if (std::memcmp(e.key.name.data(), name, e.key.name.size()) != 0) continue;
    if (now - e.made >= interval_ * static_cast<int>(kept_)) return std::nullopt;
    return Found{e.key, i == 0};
  }
  return std::nullopt;
}

}  // namespace corral::proxy
