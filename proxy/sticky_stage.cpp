#include "proxy/sticky_stage.hpp"

namespace corral::proxy {

StageVerdict StickyStage::on_request_header(RequestContext& r) {
  router_.begin(r.sticky, *r.header, r.forwarded->client_ip());
  return StageVerdict::proceed;
}

StageVerdict StickyStage::on_response_header(RequestContext& r, ResponseHeader& response) {
  if (r.slot) router_.on_response(r.sticky, response, *r.slot, r.pick_outcome, r.forwarded->secure());
  return StageVerdict::proceed;
}

}  // namespace corral::proxy
