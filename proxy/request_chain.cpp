#include "proxy/request_chain.hpp"

namespace corral::proxy {

RequestChain::RequestChain(balancer::Balancer& balancer, RewriteStage rewrite,
                           StickyRouter* sticky, session::SessionStore* sessions,
                           RequestLogStage log, std::size_t max_header_bytes)
    : balancer_(balancer), rewrite_(rewrite), log_(log) {
  order_[count_++] = &guard_;
  order_[count_++] = &rewrite_;
  if (sticky) {
    switch (sticky->config().mode) {
      case config::StickyMode::learn:
        order_[count_++] = &sticky_learn_.emplace(*sticky);
        break;
      case config::StickyMode::insert:
        order_[count_++] = &sticky_insert_.emplace(*sticky, max_header_bytes);
        break;
      case config::StickyMode::hash:
        order_[count_++] = &sticky_hash_.emplace(*sticky);
        break;
    }
  }
  if (sessions) order_[count_++] = &session_.emplace(*sessions);
  order_[count_++] = &log_;
}

ChoiceVerdict RequestChain::choose_upstream(RequestContext& r, balancer::RequestView& request,
                                            balancer::Pick& pick, RequestStage*& chooser) {
  for (RequestStage* stage : stages()) {
    const auto verdict = stage->choose_upstream(r, request, pick);
    if (verdict != ChoiceVerdict::pass) {
      chooser = stage;
      return verdict;
    }
  }
  chooser = nullptr;
  pick = {balancer_.pick(request), balancer::PickOutcome::miss};
  return ChoiceVerdict::chosen;
}

}  // namespace corral::proxy
