#pragma once
// What the sticky stage of every mode does (balance: sticky): at dispatch it chooses the
// upstream of each try, the slot the request's session is pinned to while it can serve, and
// under on_unavailable: hold waits for that slot (the pinned slot unavailable, or a try on it
// refused or reset). The modes differ in how a request names its pin and what a response
// teaches or must carry: StickyLearnStage, StickyInsertStage and StickyHashStage.
#include <optional>
#include <string_view>

#include "proxy/request_stage.hpp"
#include "proxy/sticky_router.hpp"

namespace corral::proxy {

// Per thread, over the thread's StickyRouter.
class StickyStage : public RequestStage {
 public:
  // The pin from the request header; on `unavailable` under hold, suspends for the hold.
  ChoiceVerdict choose_upstream(RequestContext& r, balancer::RequestView& request,
                                balancer::Pick& pick) override;
  // The hold: waits for the pinned slot, then picks again, failing over.
  awaitable<balancer::Pick> resume_choose_upstream(RequestContext& r,
                                                   balancer::RequestView& request) override;

  // Under hold, a refused or reset try on the pinned slot waits for the slot's next worker.
  StageVerdict on_failed_try(RequestContext& r, const balancer::Pick& pick) override;
  awaitable<bool> resume_failed_try(RequestContext& r, const balancer::Pick& pick) override;

  StickyRouter& router() { return router_; }

 protected:
  explicit StickyStage(StickyRouter& router) : router_(router) {}

  // A new request's sticky state, before its mode reads the key and pin.
  static void reset(StickyRequest& r) { r = StickyRequest{}; }
  // The pick of one try with no I/O due: the pin, or the hold to suspend for.
  ChoiceVerdict pick_or_hold(RequestContext& r, balancer::RequestView& request,
                             balancer::Pick& pick);

  StickyRouter& router_;
};

// The value of cookie `name` in the request's Cookie header(s), or nothing.
std::optional<std::string_view> request_cookie(const RequestHeader& request,
                                               std::string_view name);
// Seconds since the epoch (cookie expiry and Set-Cookie dates are wall-clock times).
long long unix_now();

}  // namespace corral::proxy
