#pragma once
// How one try of a request on an upstream ended, as the request path's retry policy and
// failure answer read it.

namespace corral::proxy {

enum class ExchangeOutcome {
  ok,               // a response header arrived
  retry,            // failed before the request could have had an effect: another try may go
  retry_same,       // a pooled connection the upstream had closed: try the slot afresh
  bad_gateway,      // failed after the request may have had an effect
  gateway_timeout,  // no answer within timeouts.upstream_response
  client_error,     // the client's side failed (bad body, closed); it was answered if it could be
  abort,            // the client went away
};

}  // namespace corral::proxy
