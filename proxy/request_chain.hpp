#pragma once
// The request path's stages of one proxy thread, in the order they run: guard, rewrite, sticky
// or shared session (as the config asks), then metrics and access log. Made once per thread;
// the session runs them for each request (DownstreamSession::handle_request).
#include <array>
#include <cstddef>
#include <optional>
#include <span>

#include "proxy/guard_stage.hpp"
#include "proxy/request_log_stage.hpp"
#include "proxy/request_stage.hpp"
#include "proxy/rewrite_stage.hpp"
#include "proxy/shared_session_stage.hpp"
#include "proxy/sticky_stage.hpp"

namespace corral::proxy {

class RequestChain {
 public:
  // `sticky` and `sessions` null when the config has no balance: sticky or no sessions:.
  RequestChain(RewriteStage rewrite, StickyRouter* sticky, session::SessionStore* sessions,
               RequestLogStage log);

  RequestChain(const RequestChain&) = delete;
  RequestChain& operator=(const RequestChain&) = delete;

  std::span<RequestStage* const> stages() const { return {order_.data(), count_}; }

 private:
  GuardStage guard_;
  RewriteStage rewrite_;
  std::optional<StickyStage> sticky_;
  std::optional<SharedSessionStage> session_;
  RequestLogStage log_;
  std::array<RequestStage*, 5> order_{};
  std::size_t count_ = 0;
};

}  // namespace corral::proxy
