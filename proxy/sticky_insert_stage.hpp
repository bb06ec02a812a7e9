#pragma once
// balance: sticky, mode: insert. corral keeps no state: the pin travels in its own signed
// cookie, corral_affinity (slot and expiry under an HMAC, session::AffinityCookie). A request's
// valid cookie names its pin and is stripped before forwarding, so the app never sees it; a
// response carries a fresh cookie when the request was placed anew or its cookie is due for
// refresh.
#include <cstddef>
#include <vector>

#include "proxy/sticky_stage.hpp"
#include "session/affinity_cookie.hpp"

namespace corral::proxy {

class StickyInsertStage final : public StickyStage {
 public:
  // Throws std::invalid_argument when the config has no usable key (config::validate reports
  // that first). `max_header_bytes` bounds a rewritten Cookie header.
  StickyInsertStage(StickyRouter& router, std::size_t max_header_bytes);

  // The pin from a valid corral_affinity; the cookie is removed from the Cookie header(s).
  StageVerdict on_request_header(RequestContext& r) override;
  // Issues corral_affinity for the slot that answered, unless a fresh one already names it.
  StageVerdict on_response_header(RequestContext& r, ResponseHeader& response) override;

 private:
  void strip_affinity_cookie(RequestHeader& request);

  session::AffinityCookie cookie_;
  std::vector<char> strip_buffer_;
};

}  // namespace corral::proxy
