#pragma once
// The request path's rewrite stage: the request id (the client's X-Request-Id, or one made
// here), the client behind trusted proxies, and the header prepared for the upstream
// (header_rewrite: hop-by-hop out, X-Forwarded-*, internal headers stripped), spoken in
// HTTP/1.1 whatever the client spoke.
#include <cstdint>

#include "proxy/request_stage.hpp"

namespace corral::proxy {

// Per thread: numbers the thread's requests for their ids.
class RewriteStage final : public RequestStage {
 public:
  // `process_prefix` and `thread` lead every id made here: <prefix, 8 hex><thread, 2 hex>
  // <request number, at least 10 hex>.
  RewriteStage(std::uint32_t process_prefix, unsigned thread)
      : prefix_(process_prefix), thread_(thread) {}

  StageVerdict on_request_header(RequestContext& r) override;

 private:
  std::uint32_t prefix_;
  unsigned thread_;
  std::uint64_t request_number_ = 0;
};

}  // namespace corral::proxy
