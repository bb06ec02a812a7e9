#pragma once
// The request path's last stage: the request's metrics (by upstream and status class, latency)
// and its access log line.
#include <cstddef>

#include "proxy/access_log.hpp"
#include "proxy/metrics.hpp"
#include "proxy/request_stage.hpp"

namespace corral::proxy {

// Per thread, over the thread's metrics and access log.
class RequestLogStage final : public RequestStage {
 public:
  // `no_upstream`: the metrics row of requests answered without an upstream.
  RequestLogStage(ThreadMetrics& metrics, AccessLog& log, std::size_t no_upstream)
      : metrics_(metrics), log_(log), no_upstream_(no_upstream) {}

  void on_end(RequestContext& r) override;

 private:
  ThreadMetrics& metrics_;
  AccessLog& log_;
  std::size_t no_upstream_;
};

}  // namespace corral::proxy
