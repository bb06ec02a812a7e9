#pragma once
// The pure interface every balancing algorithm implements. One instance per proxy thread;
// shared state lives in the SlotTable. No I/O, no clock, no randomness that is not injected.
#include <memory>
#include <optional>

#include "balancer/slot.hpp"
#include "balancer/slot_table.hpp"
#include "config/config.hpp"

namespace corral::balancer {

// How a pick went for a request that may be pinned to a slot (balance: sticky); the proxy
// counts these and re-learns a pin on `rehomed`.
enum class PickOutcome {
  hit,          // the request's pin (or, in hash mode, its key) decided the slot
  miss,         // nothing pinned the request: the algorithm placed it
  rehomed,      // the pinned slot cannot serve: placed anew
  unavailable,  // the pinned slot cannot serve and the policy is hold or strict: no slot
};

// A pick and how it went.
struct Pick {
  std::optional<SlotId> slot;  // nothing on `unavailable`, or when no usable slot remains
  PickOutcome outcome = PickOutcome::miss;
};

class Balancer {
 public:
  virtual ~Balancer() = default;

  // The slot for this request, or nothing when no usable slot outside `exclude` remains.
  virtual std::optional<SlotId> pick(const RequestView& request) = 0;

  // The same with the outcome for the request's pin (`request.affinity_slot`, or its key):
  // `on_unavailable` says what to do when the pinned slot cannot serve. Algorithms without
  // pins place every request as pick() does (a miss). Never allocates.
  virtual Pick pick_pinned(const RequestView& request, config::OnUnavailable on_unavailable) {
    (void)on_unavailable;
    return {pick(request), PickOutcome::miss};
  }

  // True when `s` is in range, usable and not in `request.exclude`.
  bool can_serve(const RequestView& request, SlotId s) const {
    return s < table_.size() && table_.usable(s) && !is_excluded(request.exclude, s);
  }

  // Events; the defaults keep the SlotTable right, algorithms may also react.
  virtual void on_up(SlotId s) { table_.set_usable(s, true); }
  virtual void on_down(SlotId s) { table_.set_usable(s, false); }
  virtual void on_request_start(SlotId s) { table_.request_started(s); }
  virtual void on_request_end(SlotId s) { table_.request_ended(s); }

  SlotTable& table() { return table_; }

 protected:
  explicit Balancer(SlotTable& table) : table_(table) {}
  SlotTable& table_;
};

// The algorithm the config names, over `table` (round_robin or least_loaded; sticky needs the
// config's sticky section: the overload below).
std::unique_ptr<Balancer> make_balancer(config::Balance kind, SlotTable& table);
// The balancer `config` asks for: for balance: sticky, a Sticky over the fallback (learn and
// insert modes) or a ConsistentHash (hash mode).
std::unique_ptr<Balancer> make_balancer(const config::Config& config, SlotTable& table);

}  // namespace corral::balancer
