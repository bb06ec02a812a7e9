#pragma once
// The request path's shared-session stage (sessions:): loads the session a request's cookie
// names onto the request before dispatch, and applies the app's X-Corral-Session-Set / -Clear
// answer before the response goes out (shared_session). Both are Redis round trips, so both
// suspend; a request without a session id, a session in the thread's cache, or a response
// without an answer, costs none.
#include "proxy/request_stage.hpp"

namespace corral::session {
class SessionStore;
}

namespace corral::proxy {

// Per thread, over the thread's SessionStore.
class SharedSessionStage final : public RequestStage {
 public:
  explicit SharedSessionStage(session::SessionStore& store) : store_(store) {}

  StageVerdict on_request_header(RequestContext& r) override;
  awaitable<StageVerdict> resume_request_header(RequestContext& r) override;
  StageVerdict on_response_header(RequestContext& r, ResponseHeader& response) override;
  awaitable<StageVerdict> resume_response_header(RequestContext& r,
                                                 ResponseHeader& response) override;

 private:
  session::SessionStore& store_;
};

}  // namespace corral::proxy
