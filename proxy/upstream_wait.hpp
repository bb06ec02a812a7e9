#pragma once
// What a stage that holds a request for its upstream (sticky's on_unavailable: hold) needs of
// the session serving the request: a sleep until a slot's state may have changed, whether the
// connection drains (a held request then stops waiting), and the address a slot has on this
// thread. The session implements it; a stage reaches it through RequestContext::wait.
#include <chrono>

#include "balancer/slot.hpp"
#include "proxy/asio.hpp"

namespace corral::proxy {

class UpstreamWait {
 public:
  // Until the thread's next look at the slots (a poll, or a slot's state changed), or `deadline`.
  virtual awaitable<void> wait_for_change(std::chrono::steady_clock::time_point deadline) = 0;
  virtual bool connection_draining() const = 0;
  virtual const tcp::endpoint& slot_endpoint(balancer::SlotId slot) const = 0;

 protected:
  ~UpstreamWait() = default;
};

}  // namespace corral::proxy
