#pragma once
// The answer to a request whose exchange with the upstream failed for good: status, message
// and whether the connection can go on. Pure, so the mapping is unit-tested.
#include <string_view>

#include <boost/beast/http/status.hpp>

#include "proxy/exchange_outcome.hpp"

namespace corral::proxy {

struct FailureAnswer {
  bool send = false;  // false: nothing to send (the client is gone, or was answered already)
  boost::beast::http::status status{};
  std::string_view message;
  bool close = false;       // the answer says Connection: close
  bool keep_alive = false;  // the connection can read another request
  std::string_view extra_headers;  // whole header lines, each ending in CRLF (Retry-After)
};

// `request_read`: the client's request was read whole (so the connection is in step).
FailureAnswer failure_answer(ExchangeOutcome outcome, bool request_read);

}  // namespace corral::proxy
