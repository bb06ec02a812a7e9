#pragma once
// The request path's stages of one proxy thread, in the order they run: guard, rewrite, the
// sticky stage of the configured mode (learn, insert or hash) or shared session (as the config
// asks), then metrics and access log. Made once per thread; the session runs them for each
// request (DownstreamSession::handle_request) and asks them for each try's upstream
// (choose_upstream), the thread's balancer answering when no stage chooses.
#include <array>
#include <cstddef>
#include <optional>
#include <span>

#include "balancer/balancer.hpp"
#include "proxy/guard_stage.hpp"
#include "proxy/request_log_stage.hpp"
#include "proxy/request_stage.hpp"
#include "proxy/rewrite_stage.hpp"
#include "proxy/shared_session_stage.hpp"
#include "proxy/sticky_hash_stage.hpp"
#include "proxy/sticky_insert_stage.hpp"
#include "proxy/sticky_learn_stage.hpp"

namespace corral::proxy {

class RequestChain {
 public:
  // `balancer` is the thread's; `sticky` and `sessions` null when the config has no
  // balance: sticky or no sessions:. `max_header_bytes` is limits.max_header_bytes (insert
  // mode rewrites the Cookie header within it). Throws std::invalid_argument when insert mode
  // has no usable key.
  RequestChain(balancer::Balancer& balancer, RewriteStage rewrite, StickyRouter* sticky,
               session::SessionStore* sessions, RequestLogStage log,
               std::size_t max_header_bytes);

  RequestChain(const RequestChain&) = delete;
  RequestChain& operator=(const RequestChain&) = delete;

  std::span<RequestStage* const> stages() const { return {order_.data(), count_}; }

  // The upstream of one try: the first stage that chooses (`chooser`), else the thread's
  // balancer (`chooser` null, the pick a miss). On `suspend` the session awaits
  // chooser->resume_choose_upstream for the pick. No allocation.
  ChoiceVerdict choose_upstream(RequestContext& r, balancer::RequestView& request,
                                balancer::Pick& pick, RequestStage*& chooser);

 private:
  balancer::Balancer& balancer_;
  GuardStage guard_;
  RewriteStage rewrite_;
  std::optional<StickyLearnStage> sticky_learn_;
  std::optional<StickyInsertStage> sticky_insert_;
  std::optional<StickyHashStage> sticky_hash_;
  std::optional<SharedSessionStage> session_;
  RequestLogStage log_;
  std::array<RequestStage*, 5> order_{};
  std::size_t count_ = 0;
};

}  // namespace corral::proxy
