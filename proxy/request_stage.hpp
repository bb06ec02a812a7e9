#pragma once
// The one interface of the request path's stages (guard, rewrite, sticky, shared session,
// metrics and access log): each feature of the path is a stage, run in order by the session
// for every request, as Envoy's HTTP filters are. Stages are made once per proxy thread and
// keep nothing of a request but what it carries in its RequestContext: no allocation and no
// coroutine per request and stage, unless a stage has I/O to do (then it says `suspend`).
#include "proxy/asio.hpp"
#include "proxy/header_fields.hpp"
#include "proxy/request_context.hpp"

namespace corral::proxy {

enum class StageVerdict {
  proceed,  // the next stage runs
  answer,   // the request stops here: the session answers RequestContext::answer
  suspend,  // I/O is due: the session awaits the stage's resume_* and goes on with its verdict
};

class RequestStage {
 public:
  virtual ~RequestStage() = default;

  // The request's header is parsed and the stages before this one passed it.
  virtual StageVerdict on_request_header(RequestContext& r) { return (void)r, StageVerdict::proceed; }
  virtual awaitable<StageVerdict> resume_request_header(RequestContext& r);

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
