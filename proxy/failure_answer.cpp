#include "proxy/failure_answer.hpp"

namespace corral::proxy {

FailureAnswer failure_answer(ExchangeOutcome outcome, bool request_read) {
  using boost::beast::http::status;
  switch (outcome) {
    case ExchangeOutcome::gateway_timeout:
      // The upstream may still be working on it: the connection is not reused.
      return {true, status::gateway_timeout, "upstream timed out", true, false, {}};
    case ExchangeOutcome::client_error:
    case ExchangeOutcome::abort:
      return {false, {}, {}, true, false, {}};
    default:
      // A body left unread would be taken for the next request: close then.
      return {true, status::bad_gateway, "upstream failed", !request_read, request_read, {}};
  }
}

}  // namespace corral::proxy
