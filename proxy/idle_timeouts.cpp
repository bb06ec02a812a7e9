#include "proxy/idle_timeouts.hpp"

namespace corral::proxy {

void IdleTimeouts::add(Entry& e, clock::duration after) {
  e.unlink();
  e.deadline_ = clock::now() + after;
  Lane* lane = nullptr;
  for (auto& l : lanes_) {
    if (l->after == after) {
      lane = l.get();
      break;
    }
  }
  if (!lane) {
    lanes_.push_back(std::make_unique<Lane>(Lane{after, {}}));
    lane = lanes_.back().get();
  }
  lane->entries.push_back(e);
  if (e.deadline_ < timer_at_) set_timer(e.deadline_);
}

std::size_t IdleTimeouts::size() const {
  std::size_t n = 0;
  for (const auto& l : lanes_) n += l->entries.size();
  return n;
}

void IdleTimeouts::set_timer(clock::time_point at) {
  if (!timer_) return;
  timer_at_ = at;
  // Setting the expiry cancels the wait before: its handler sees operation_aborted.
  timer_->expires_at(at);
  timer_->async_wait([this](error_code ec) {
    if (!ec) on_timer();
  });
}

void IdleTimeouts::on_timer() {
  timer_at_ = clock::time_point::max();
  const auto now = clock::now();
  auto next = clock::time_point::max();
  for (auto& l : lanes_) {
    auto& entries = l->entries;
    while (!entries.empty() && entries.front().deadline_ <= now) {
      Entry& e = entries.front();
      entries.pop_front();
      expire_(e);
    }
    if (!entries.empty()) next = std::min(next, entries.front().deadline_);
  }
  if (next != clock::time_point::max()) set_timer(next);
}

}  // namespace corral::proxy
