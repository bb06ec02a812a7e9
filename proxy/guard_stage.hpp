#pragma once
// The request path's first stage: refuses framing a proxy must not forward (request_guard), an
// Expect it cannot meet, and an h2c upgrade (removed: served as HTTP/1.1, never tunnelled).
#include "proxy/request_stage.hpp"

namespace corral::proxy {

// Per thread; no state of its own.
class GuardStage final : public RequestStage {
 public:
  StageVerdict on_request_header(RequestContext& r) override;
};

}  // namespace corral::proxy
