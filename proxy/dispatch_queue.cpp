#include "proxy/dispatch_queue.hpp"

#include <algorithm>

namespace corral::proxy {

namespace {

config::Balance queue_balance(const config::Config& cfg) {
  if (cfg.balance == config::Balance::sticky && cfg.sticky) return cfg.sticky->fallback;
  return cfg.balance == config::Balance::sticky ? config::Balance::least_loaded : cfg.balance;
}

}  // namespace

DispatchQueue::DispatchQueue(const config::Config& cfg, balancer::SlotTable& slots,
                             bool worker_mode)
    : slots_(slots),
      enabled_(worker_mode),
      adaptive_(worker_mode && (!cfg.workers || cfg.workers->max_in_flight.adaptive)),
      max_queue_(static_cast<std::size_t>(cfg.limits.max_queue)),
      balancer_(balancer::make_balancer(queue_balance(cfg), slots)),
      random_state_(static_cast<std::uint64_t>(clock::now().time_since_epoch().count()) | 1) {
  if (!enabled_) return;
  const auto now = clock::now();
  last_answer_.assign(slots_.size(), now);
  for (balancer::SlotId s = 0; s < slots_.size(); ++s) {
    if (adaptive_) {
      limits_.emplace_back(balancer::GradientLimit::Options{}, now);
      slots_.set_limit(s, limits_.back().limit());
    } else {
      slots_.set_limit(s, cfg.workers ? cfg.workers->max_in_flight.fixed : 1);
    }
  }
}

bool DispatchQueue::try_start(balancer::SlotId slot) {
  if (length_.load(std::memory_order_seq_cst) != 0) return false;
  return slots_.try_start(slot);
}

bool DispatchQueue::may_use(const QueueTicket& t, balancer::SlotId slot) const {
  for (std::size_t i = 0; i < t.nfailed; ++i)
    if (t.failed[i].first == slot && t.failed[i].second == slots_.downs(slot)) return false;
  return true;
}

DispatchQueue::Entered DispatchQueue::enqueue(const std::shared_ptr<QueueTicket>& t, bool front) {
  std::lock_guard guard(lock_);
  queued_.fetch_add(1, std::memory_order_relaxed);
  if (waiting_.size() >= max_queue_) {
    full_.fetch_add(1, std::memory_order_relaxed);
    return Entered::full;
  }
  t->waiting = true;
  t->granted.reset();
  if (front) waiting_.push_front(t);
  else waiting_.push_back(t);
  // Before looking for room: a request that ends now on another thread sees the length and
  // hands its place over (under the lock, after this).
  length_.store(waiting_.size(), std::memory_order_seq_cst);
  grant_waiting();
  return t->waiting ? Entered::waiting : Entered::granted;
}

bool DispatchQueue::leave(QueueTicket& t) {
  std::lock_guard guard(lock_);
  if (!t.waiting) return false;
  t.waiting = false;
  auto it = std::find_if(waiting_.begin(), waiting_.end(),
                         [&](const std::shared_ptr<QueueTicket>& w) { return w.get() == &t; });
  if (it != waiting_.end()) waiting_.erase(it);
  length_.store(waiting_.size(), std::memory_order_seq_cst);
  return true;
}

void DispatchQueue::end(balancer::SlotId slot) {
  slots_.request_ended(slot);
  // Pairs with enqueue(): either this sees the waiter, or the waiter saw the room.
  if (length_.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard guard(lock_);
  grant_waiting();
}

void DispatchQueue::slots_changed() {
  if (length_.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard guard(lock_);
  grant_waiting();
}

std::optional<balancer::SlotId> DispatchQueue::pick_for(const QueueTicket& t) {
  if (t.only && (slots_.usable(*t.only) || !t.only_while_usable)) {
    if (slots_.usable(*t.only) && may_use(t, *t.only) && slots_.try_start(*t.only)) return t.only;
    return std::nullopt;
  }
  std::array<balancer::SlotId, 8> exclude{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < t.nfailed; ++i)
    if (!may_use(t, t.failed[i].first)) exclude[n++] = t.failed[i].first;
  balancer::RequestView view{{}, {}, {}, std::span<const balancer::SlotId>(exclude.data(), n), {}};
  // The pick is among slots with room; another thread may fill it first, so try a few.
  for (int i = 0; i < 4; ++i) {
    auto slot = balancer_->pick(view);
    if (!slot) return std::nullopt;
    if (slots_.try_start(*slot)) return slot;
  }
  return std::nullopt;
}

void DispatchQueue::grant_waiting() {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    QueueTicket& t = **it;
    auto slot = pick_for(t);
    if (!slot) {
      // An unpinned request that finds no room: nobody behind it will (they would only be
      // pickier). Pinned ones may still find their own slot free.
      if (!t.only && t.nfailed == 0) break;
      ++it;
      continue;
    }
    auto keep = *it;
    it = waiting_.erase(it);
    grant(t, *slot, keep);
  }
  length_.store(waiting_.size(), std::memory_order_seq_cst);
}

void DispatchQueue::grant(QueueTicket& t, balancer::SlotId slot,
                          const std::shared_ptr<QueueTicket>& keep) {
  t.granted = slot;
  t.waiting = false;
  // The timer belongs to the session's thread: cancel it there.
  asio::post(t.timer.get_executor(), [keep] { keep->timer.cancel(); });
}

void DispatchQueue::on_response(balancer::SlotId slot, clock::time_point dispatched,
                                clock::duration rtt) {
  if (!adaptive_ || slot >= limits_.size()) return;
  const auto now = clock::now();
  bool changed = false;
  {
    std::lock_guard guard(limits_lock_);
    // xorshift64: a jitter for the next probe, no need for more.
    random_state_ ^= random_state_ << 13;
    random_state_ ^= random_state_ >> 7;
    random_state_ ^= random_state_ << 17;
    const double random01 = static_cast<double>(random_state_ >> 11) * 0x1.0p-53;
    auto& limit = limits_[slot];
    last_answer_[slot] = now;
    changed = limit.on_sample(now, dispatched, rtt, slots_.in_flight(slot), random01);
    if (changed) slots_.set_limit(slot, limit.limit());
  }
  if (changed) slots_changed();
}

void DispatchQueue::worker_replaced(balancer::SlotId slot) {
  if (!adaptive_ || slot >= limits_.size()) return;
  std::lock_guard guard(limits_lock_);
  limits_[slot].restart(clock::now());
  last_answer_[slot] = clock::now();
  slots_.set_limit(slot, limits_[slot].limit());
}

void DispatchQueue::tick() {
  if (length_.load(std::memory_order_seq_cst) == 0) return;
  if (adaptive_) {
    const auto now = clock::now();
    std::lock_guard guard(limits_lock_);
    for (balancer::SlotId s = 0; s < limits_.size(); ++s) {
      if (!slots_.usable(s) || slots_.has_room(s)) continue;
      if (now - last_answer_[s] < limits_[s].stall_after()) continue;
      limits_[s].lift(now);
      last_answer_[s] = now;
      slots_.set_limit(s, limits_[s].limit());
    }
  }
  slots_changed();
}

QueueStats DispatchQueue::stats() const {
  QueueStats s;
  s.queued = queued_.load(std::memory_order_relaxed);
  s.timeouts = timeouts_.load(std::memory_order_relaxed);
  s.full = full_.load(std::memory_order_relaxed);
  s.abandoned = abandoned_.load(std::memory_order_relaxed);
  s.wait_ns = wait_ns_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace corral::proxy
