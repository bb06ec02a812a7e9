#pragma once
// The request path's sticky stage (balance: sticky): reads the request's session key and pin
// before dispatch, and after the response header learns or forgets the pin (learn mode) or
// issues corral_affinity (insert mode). The pick itself, with the hold, is the thread's
// StickyRouter's, which dispatch asks.
#include "proxy/request_stage.hpp"
#include "proxy/sticky_router.hpp"

namespace corral::proxy {

// Per thread, over the thread's StickyRouter.
class StickyStage final : public RequestStage {
 public:
  explicit StickyStage(StickyRouter& router) : router_(router) {}

  StageVerdict on_request_header(RequestContext& r) override;
  StageVerdict on_response_header(RequestContext& r, ResponseHeader& response) override;

 private:
  StickyRouter& router_;
};

}  // namespace corral::proxy
