#include "proxy/guard_stage.hpp"

#include <cctype>

#include "proxy/header_rewrite.hpp"
#include "proxy/request_guard.hpp"

namespace corral::proxy {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

StageVerdict GuardStage::on_request_header(RequestContext& r) {
  RequestHeader& req = *r.header;
  if (auto rejected = check_request_header(req)) {
    r.stop(rejected->status, rejected->message, true);
    return StageVerdict::answer;
  }
  // h2c is never tunnelled: the request is served as HTTP/1.1 (header_rewrite.hpp).
  r.upgrade = remove_h2c_upgrade(req) && r.upgrade;
  if (auto e = req.find(http::field::expect); e != req.end()) {
    if (!iequals(e->value(), "100-continue")) {
      r.stop(http::status::expectation_failed, "unsupported Expect", true);
      return StageVerdict::answer;
    }
    // corral answers 100 Continue itself when it is ready for the body, as nginx does.
    r.expect_continue = req.version() >= 11;
    req.erase(e);
  }
  return StageVerdict::proceed;
}

}  // namespace corral::proxy
