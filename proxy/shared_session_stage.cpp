#include "proxy/shared_session_stage.hpp"

#include "session/session_store.hpp"

namespace corral::proxy {

StageVerdict SharedSessionStage::on_request_header(RequestContext& r) {
  r.session = {};
  prepare_session(store_.config(), *r.header, r.session);
  if (!r.session.id || load_cached_session(store_, *r.header, r.session))
    return StageVerdict::proceed;
  return StageVerdict::suspend;
}

awaitable<StageVerdict> SharedSessionStage::resume_request_header(RequestContext& r) {
  auto step = co_await load_session(store_, *r.header, r.session);
  if (step == SessionStep::store_down &&
      store_.config().on_store_down == config::StoreDown::fail_closed) {
    r.stop(http::status::service_unavailable, "session store unavailable", false);
    co_return StageVerdict::answer;
  }
  co_return StageVerdict::proceed;
}

StageVerdict SharedSessionStage::on_response_header(RequestContext&, ResponseHeader& response) {
  return has_session_answer(response) ? StageVerdict::suspend : StageVerdict::proceed;
}

awaitable<StageVerdict> SharedSessionStage::resume_response_header(RequestContext& r,
                                                                   ResponseHeader& response) {
  auto step =
      co_await apply_session_answer(store_, response, r.session, r.forwarded->session_secure());
  if (step == SessionStep::store_down &&
      store_.config().on_store_down == config::StoreDown::fail_closed) {
    // The app's answer depends on a session change that could not be stored: not sent.
    r.stop(http::status::service_unavailable, "session store unavailable", true);
    co_return StageVerdict::answer;
  }
  co_return StageVerdict::proceed;
}

}  // namespace corral::proxy
