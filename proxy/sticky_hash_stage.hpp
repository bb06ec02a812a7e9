#pragma once
// balance: sticky, mode: hash. No pin is kept anywhere: the request's key (a cookie, a header,
// a query parameter or the client's address, per sticky.key) goes to the thread's
// ConsistentHash balancer, which maps equal keys to the same slot. A request without a key is
// placed as any other.
#include "proxy/sticky_stage.hpp"

namespace corral::proxy {

class StickyHashStage final : public StickyStage {
 public:
  explicit StickyHashStage(StickyRouter& router) : StickyStage(router) {}

  // The request's key, handed to the balancer at dispatch.
  StageVerdict on_request_header(RequestContext& r) override;

 private:
  std::string_view hash_key(const RequestHeader& request, std::string_view client_ip) const;
};

}  // namespace corral::proxy
