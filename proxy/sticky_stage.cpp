#include "proxy/sticky_stage.hpp"

#include <chrono>

#include "session/cookie.hpp"

namespace corral::proxy {

using balancer::Pick;
using balancer::PickOutcome;

ChoiceVerdict StickyStage::choose_upstream(RequestContext& r, balancer::RequestView& request,
                                           Pick& pick) {
  return pick_or_hold(r, request, pick);
}

ChoiceVerdict StickyStage::pick_or_hold(RequestContext& r, balancer::RequestView& request,
                                        Pick& pick) {
  r.wait_for_pin = router_.holds();
  pick = router_.pick(r.sticky, request);
  if (pick.outcome == PickOutcome::unavailable && router_.holds()) return ChoiceVerdict::suspend;
  return ChoiceVerdict::chosen;
}

awaitable<Pick> StickyStage::resume_choose_upstream(RequestContext& r,
                                                    balancer::RequestView& request) {
  return router_.hold_for_pin(r.sticky, request, *r.wait);
}

StageVerdict StickyStage::on_failed_try(RequestContext& r, const Pick& pick) {
  (void)r;
  return pick.slot && router_.waits_for_restart(pick.outcome) ? StageVerdict::suspend
                                                              : StageVerdict::proceed;
}

awaitable<bool> StickyStage::resume_failed_try(RequestContext& r, const Pick& pick) {
  return router_.wait_for_restart(*pick.slot, *r.wait);
}

std::optional<std::string_view> request_cookie(const RequestHeader& request,
                                               std::string_view name) {
  for (auto [it, end] = request.equal_range(http::field::cookie); it != end; ++it)
    if (auto v = session::find_cookie(it->value(), name)) return v;
  return std::nullopt;
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace corral::proxy
