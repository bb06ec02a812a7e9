#include "proxy/rewrite_stage.hpp"

#include <algorithm>

#include "proxy/header_rewrite.hpp"

namespace corral::proxy {

namespace {

// `v` in lowercase hex, at least `min_digits` digits (zero-padded); returns the end. At most 16
// digits.
char* put_hex(char* out, std::uint64_t v, int min_digits) {
  static constexpr char digits[] = "0123456789abcdef";
  int n = 1;
  while (n < 16 && (v >> (4 * n)) != 0) ++n;
  n = std::max(n, min_digits);
  for (int i = n - 1; i >= 0; --i, v >>= 4) out[i] = digits[v & 15];
  return out + n;
}

}  // namespace

StageVerdict RewriteStage::on_request_header(RequestContext& r) {
  RequestHeader& req = *r.header;
  r.request_id = request_id_of(req);
  if (r.request_id.empty()) {
    char* out = r.request_id_text.data();
    out = put_hex(out, prefix_, 8);
    out = put_hex(out, thread_ & 0xff, 2);
    out = put_hex(out, ++request_number_, 10);
    r.request_id = std::string_view(r.request_id_text.data(), out - r.request_id_text.data());
  }
  // Before rewrite_request, which joins X-Forwarded-For and replaces X-Forwarded-Proto.
  r.forwarded->read(req, r.peer_ip);
  rewrite_request(req, ForwardContext{r.peer_ip, r.forwarded->https(), r.request_id}, r.upgrade);
  // Upstreams are spoken to in HTTP/1.1, whatever the client speaks: an HTTP/1.0 request
  // forwarded as such would cost a new upstream connection each time (1.0 closes by default).
  // The session answers the client in its own version. Without Host (HTTP/1.0 allows it) the
  // request stays 1.0, as 1.1 requires the header.
  if (r.client_version < 11 && req.find(http::field::host) != req.end()) req.version(11);
  return StageVerdict::proceed;
}

}  // namespace corral::proxy
