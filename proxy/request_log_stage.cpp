#include "proxy/request_log_stage.hpp"

namespace corral::proxy {

void RequestLogStage::on_end(RequestContext& r) {
  const auto took = RequestContext::clock::now() - r.started;
  metrics_.request_done(r.slot ? *r.slot : no_upstream_, r.status, took);
  if (!log_.enabled() || r.status == 0) return;
  const RequestHeader& req = *r.header;
  // An HTTP/2 stream is logged as the client spoke it.
  log_.write(AccessRecord{r.peer_ip, req.method_string(), req.target(),
                          r.http2 ? 20u : r.client_version, r.status, r.bytes_sent, took,
                          r.queued_for, r.upstream_name, r.request_id});
}

}  // namespace corral::proxy
