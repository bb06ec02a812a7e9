#include "proxy/request_stage.hpp"

namespace corral::proxy {

// Only a stage that says `suspend` is resumed, and such a stage overrides these.
awaitable<StageVerdict> RequestStage::resume_request_header(RequestContext&) {
  co_return StageVerdict::proceed;
}

awaitable<balancer::Pick> RequestStage::resume_choose_upstream(RequestContext&,
                                                               balancer::RequestView&) {
  co_return balancer::Pick{};
}

awaitable<bool> RequestStage::resume_failed_try(RequestContext&, const balancer::Pick&) {
  co_return false;
}

awaitable<StageVerdict> RequestStage::resume_response_header(RequestContext&, ResponseHeader&) {
  co_return StageVerdict::proceed;
}

}  // namespace corral::proxy
