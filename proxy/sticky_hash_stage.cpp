#include "proxy/sticky_hash_stage.hpp"

namespace corral::proxy {

namespace {

// The raw value of query parameter `name` in `target` ("/p?a=1&sid=x"), or empty.
std::string_view query_parameter(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return {};
}

}  // namespace

StageVerdict StickyHashStage::on_request_header(RequestContext& r) {
  reset(r.sticky);
  r.sticky.key = hash_key(*r.header, r.forwarded->client_ip());
  return StageVerdict::proceed;
}

std::string_view StickyHashStage::hash_key(const RequestHeader& request,
                                           std::string_view client_ip) const {
  const config::Sticky& config = router_.config();
  switch (config.key_source) {
    case config::StickyKeySource::cookie:
      return request_cookie(request, config.cookie).value_or(std::string_view{});
    case config::StickyKeySource::header: {
      auto it = request.find(config.key_name);
      return it == request.end() ? std::string_view{} : std::string_view(it->value());
    }
    case config::StickyKeySource::query:
      return query_parameter(request.target(), config.key_name);
    case config::StickyKeySource::client_ip:
      return client_ip;
  }
  return {};
}

}  // namespace corral::proxy
