#pragma once
// balance: sticky, mode: learn. The pin is learned from the app's own session cookie: the
// affinity table that all threads share maps the cookie's value to the slot that set it (with
// sticky.store: redis, the thread's AffinityStore behind the table, shared by every instance).
// A request's cookie names its pin; a response's Set-Cookie learns one, its deleting form
// forgets it, and a session re-homed elsewhere is pinned where it landed.
#include "proxy/sticky_stage.hpp"

namespace corral::proxy {

class StickyLearnStage final : public StickyStage {
 public:
  explicit StickyLearnStage(StickyRouter& router) : StickyStage(router) {}

  // The session key (the app's cookie) and its pin from the table.
  StageVerdict on_request_header(RequestContext& r) override;
  // With a store: a key the table does not know, or whose pin cannot serve, is looked up in
  // Redis first (once per request; the stage suspends for it).
  ChoiceVerdict choose_upstream(RequestContext& r, balancer::RequestView& request,
                                balancer::Pick& pick) override;
  awaitable<balancer::Pick> resume_choose_upstream(RequestContext& r,
                                                   balancer::RequestView& request) override;
  // Learns or forgets from the response's Set-Cookie; re-pins a re-homed session.
  StageVerdict on_response_header(RequestContext& r, ResponseHeader& response) override;

 private:
  bool store_lookup_due(const StickyRequest& s, const balancer::RequestView& request) const;
  // The store lookup, then the pick (and the hold, if the pin still cannot serve).
  awaitable<balancer::Pick> pick_after_store(RequestContext& r, balancer::RequestView& request);
  void learn_from(const StickyRequest& s, const ResponseHeader& response, balancer::SlotId slot,
                  balancer::PickOutcome outcome);
};

}  // namespace corral::proxy
