#pragma once
// Screening of requests before anything is forwarded: request-smuggling shapes and framing
// that corral refuses. Pure functions; each refusal carries the status and a short message.
#include <optional>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/empty_body.hpp>

#include "proxy/header_fields.hpp"

namespace corral::proxy {

namespace http = boost::beast::http;

struct Rejection {
  http::status status = http::status::bad_request;
  std::string_view message;  // static text, e.g. "obs-fold in header"
};

// Scans the raw bytes of a request header (from the request line up to and including the
// blank line, or the bytes received so far) for shapes Beast's parser accepts but a proxy
// must not forward: obs-fold, bare CR, NUL.
std::optional<Rejection> screen_raw_header(std::string_view raw);

// Checks a parsed request header: Content-Length with Transfer-Encoding, differing duplicate
// Content-Length, Transfer-Encoding other than a final "chunked", invalid header names,
// absolute-form targets naming another host than Host. `raw` is the same header's bytes.
std::optional<Rejection> check_request_header(const RequestHeader& h);

// Maps an error of Beast's request parser to the answer the client gets
// (header_limit → 431, body_limit → 413, others → 400 with a message).
Rejection rejection_for_parse_error(const boost::system::error_code& ec);

}  // namespace corral::proxy
