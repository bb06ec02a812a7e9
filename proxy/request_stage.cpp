#include "proxy/request_stage.hpp"

namespace corral::proxy {

// Only a stage that says `suspend` is resumed, and such a stage overrides these.
awaitable<StageVerdict> RequestStage::resume_request_header(RequestContext&) {
  co_return StageVerdict::proceed;
}

awaitable<StageVerdict> RequestStage::resume_response_header(RequestContext&, ResponseHeader&) {
  co_return StageVerdict::proceed;
}

}  // namespace corral::proxy
