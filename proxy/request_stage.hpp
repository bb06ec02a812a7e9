#pragma once
// The one interface of the request path's stages (guard, rewrite, sticky, shared session,
// metrics and access log): each feature of the path is a stage, run in order by the session
// for every request, as Envoy's HTTP filters are. Stages are made once per proxy thread and
// keep nothing of a request but what it carries in its RequestContext: no allocation and no
// coroutine per request and stage, unless a stage has I/O to do (then it says `suspend`).
// A stage may also choose the upstream of each try (sticky: the session's pinned slot); the
// first stage that chooses wins, else the thread's balancer places the request.
#include "balancer/balancer.hpp"
#include "proxy/asio.hpp"
#include "proxy/header_fields.hpp"
#include "proxy/request_context.hpp"

namespace corral::proxy {

enum class StageVerdict {
  proceed,  // the next stage runs
  answer,   // the request stops here: the session answers RequestContext::answer
  suspend,  // I/O is due: the session awaits the stage's resume_* and goes on with its verdict
};

// What a stage answers when dispatch asks it for the upstream of one try.
enum class ChoiceVerdict {
  pass,     // the stage does not choose: the next one is asked, at the end the balancer
  chosen,   // the pick is the stage's (`unavailable`: the request is answered 503)
  suspend,  // I/O or a wait is due: the session awaits resume_choose_upstream for the pick
};

class RequestStage {
 public:
  virtual ~RequestStage() = default;

  // The request's header is parsed and the stages before this one passed it.
  virtual StageVerdict on_request_header(RequestContext& r) { return (void)r, StageVerdict::proceed; }
  virtual awaitable<StageVerdict> resume_request_header(RequestContext& r);

  // The upstream for one try; `request` excludes the slots already tried. On `chosen` the
  // stage has set `pick`.
  virtual ChoiceVerdict choose_upstream(RequestContext& r, balancer::RequestView& request,
                                        balancer::Pick& pick) {
    return (void)r, (void)request, (void)pick, ChoiceVerdict::pass;
  }
  virtual awaitable<balancer::Pick> resume_choose_upstream(RequestContext& r,
                                                           balancer::RequestView& request);

  // A try on `pick.slot`, which this stage chose, failed before any response byte and before
  // any of the request's body was read (refused or reset). `suspend` to wait for the slot
  // (resume_failed_try: true when the same slot is to be tried again); `proceed` leaves the
  // next step to the retry policy.
  virtual StageVerdict on_failed_try(RequestContext& r, const balancer::Pick& pick) {
    return (void)r, (void)pick, StageVerdict::proceed;
  }
  virtual awaitable<bool> resume_failed_try(RequestContext& r, const balancer::Pick& pick);

  // The upstream's response header arrived from r.slot; it is not forwarded yet.
  virtual StageVerdict on_response_header(RequestContext& r, ResponseHeader& response) {
    return (void)r, (void)response, StageVerdict::proceed;
  }
  virtual awaitable<StageVerdict> resume_response_header(RequestContext& r,
                                                         ResponseHeader& response);

  // The request is over (answered, failed, or its client gone); r.status 0 when nothing was sent.
  virtual void on_end(RequestContext& r) { (void)r; }
};

}  // namespace corral::proxy
