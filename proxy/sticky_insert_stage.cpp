#include "proxy/sticky_insert_stage.hpp"

#include <stdexcept>
#include <string>

#include "config/validate.hpp"
#include "session/cookie.hpp"

namespace corral::proxy {

namespace {

std::string usable_key(const config::Sticky& config) {
  auto key = config::insert_key(config);
  if (!key) throw std::invalid_argument("sticky: insert mode has no key");
  return std::move(*key);
}

}  // namespace

StickyInsertStage::StickyInsertStage(StickyRouter& router, std::size_t max_header_bytes)
    : StickyStage(router), cookie_(std::string_view(usable_key(router.config()))) {
  strip_buffer_.resize(max_header_bytes);
}

StageVerdict StickyInsertStage::on_request_header(RequestContext& r) {
  StickyRequest& s = r.sticky;
  reset(s);
  if (auto v = request_cookie(*r.header, session::affinity_cookie_name)) {
    s.now_unix = unix_now();
    auto check = cookie_.verify(*v, s.now_unix);
    if (check.status == session::AffinityCookieStatus::valid) {
      s.pin = check.slot;
      s.cookie_expiry = check.expiry_unix;
    } else if (check.status != session::AffinityCookieStatus::expired) {
      router_.counters().cookies_rejected.add();
    }
    strip_affinity_cookie(*r.header);
  }
  return StageVerdict::proceed;
}

void StickyInsertStage::strip_affinity_cookie(RequestHeader& request) {
  const auto name = session::affinity_cookie_name;
  auto range = request.equal_range(http::field::cookie);
  if (std::next(range.first) == range.second) {
    // One Cookie header, the usual case.
    std::string_view value = range.first->value();
    auto stripped = session::strip_cookie(value, name, strip_buffer_);
    if (!stripped || stripped->empty()) {
      request.erase(http::field::cookie);
    } else if (stripped->size() != value.size()) {
      request.set(http::field::cookie, *stripped);  // copies before the old value goes
    }
    return;
  }
  // Several Cookie headers: rebuild them in order without ours.
  std::vector<std::string> kept;
  for (auto it = range.first; it != range.second; ++it) {
    auto stripped = session::strip_cookie(it->value(), name, strip_buffer_);
    if (stripped && !stripped->empty()) kept.emplace_back(*stripped);
  }
  request.erase(http::field::cookie);
  for (const auto& v : kept) request.insert(http::field::cookie, v);
}

StageVerdict StickyInsertStage::on_response_header(RequestContext& r, ResponseHeader& response) {
  if (!r.slot) return StageVerdict::proceed;
  StickyRequest& s = r.sticky;
  const auto max_age = std::chrono::duration_cast<std::chrono::seconds>(router_.config().max_age);
  bool issue = true;
  if (r.pick_outcome == balancer::PickOutcome::hit) {
    if (s.now_unix == 0) s.now_unix = unix_now();
    issue = session::AffinityCookie::needs_refresh(s.cookie_expiry, s.now_unix, max_age);
  } else {
    s.now_unix = unix_now();
  }
  if (issue) {
    auto text = cookie_.set_cookie(*r.slot, s.now_unix, max_age, r.forwarded->secure());
    response.insert(http::field::set_cookie, text.view());
    router_.counters().cookies_issued.add();
  }
  s.now_unix = 0;
  return StageVerdict::proceed;
}

}  // namespace corral::proxy
