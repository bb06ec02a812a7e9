#include "proxy/upstream_pool.hpp"

namespace corral::proxy {

UpstreamPool::UpstreamPool(asio::io_context& ioc, std::size_t slots, std::chrono::milliseconds max_idle)
    : ioc_(ioc), idle_(slots), max_idle_(max_idle) {
  for (auto& v : idle_) v.reserve(64);
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(balancer::SlotId slot) {
  auto& list = idle_[slot];
  auto now = std::chrono::steady_clock::now();
  while (!list.empty()) {
    auto c = std::move(list.back());
    list.pop_back();
    // Most HTTP servers close idle keep-alive connections after a few seconds (Node: 5 s);
    // one idle longer than max_idle_ is likely closed already, so it is not worth a try.
    if (now - c->idle_since < max_idle_) {
      c->reused = true;
      return c;
    }
  }
  return fresh(slot);
}

void UpstreamPool::give_back(std::unique_ptr<UpstreamConnection> c) {
  auto& list = idle_[c->slot];
  if (list.size() >= max_idle_per_slot_) return;
  c->idle_since = std::chrono::steady_clock::now();
  list.push_back(std::move(c));
}

void UpstreamPool::clear() {
  for (auto& v : idle_) v.clear();
}

}  // namespace corral::proxy
