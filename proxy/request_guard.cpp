#include "proxy/request_guard.hpp"

#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

// What Beast 1.81's request_parser already refuses, found by feeding it each shape:
//   Content-Length and Transfer-Encoding: chunked together (either order); two different
//   Content-Length values, in two lines or in one ("1, 2"); "chunked" in two Transfer-Encoding
//   lines; bad chunk sizes ("zz", "-1", " 5", more than 16 hex digits, missing CRLF after the
//   data); bare CR, bare LF, NUL and other controls in header values; invalid header names
//   ("Foo Bar", "Foo\x01", "Foo :"); a field line starting with whitespace right after the
//   request line.
// What it accepts and this file therefore refuses:
//   obs-fold (it joins the lines, so "Transfer-Encoding: gzip,\r\n chunked" becomes chunked);
//   Transfer-Encoding whose last coding is not chunked ("gzip", "chunked, gzip",
//   "chunked, chunked": Beast then reads no body and the body bytes become the next request);
//   Transfer-Encoding that is not chunked together with Content-Length; Transfer-Encoding in
//   two lines; Transfer-Encoding in HTTP/1.0; identical duplicate Content-Length ("5, 5" or
//   two lines); missing or duplicate Host in HTTP/1.1; absolute-form targets naming another
//   authority than Host.

namespace corral::proxy {

namespace {

constexpr Rejection bad(std::string_view message) {
  return Rejection{http::status::bad_request, message};
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f'); }

// tchar from RFC 9110 §5.6.2.
bool is_tchar(char c) {
  if (is_digit(c) || is_alpha(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Every element must be a bare token and "chunked" must come exactly once, last (RFC 9112
// §6.1, §6.3). Stricter than the grammar on purpose: empty elements or parameters
// ("chunked;q=1", "chunked,") are read as chunked by Beast but not by every upstream, and a
// proxy that frames a body differently from its upstream is the definition of smuggling.
std::optional<Rejection> check_transfer_encoding(std::string_view value) {
  bool chunked_seen = false;
  for (;;) {
    const auto comma = value.find(',');
    const auto coding = trim_ows(value.substr(0, comma));
    if (!is_token(coding)) return bad("bad Transfer-Encoding");
    if (chunked_seen) return bad("Transfer-Encoding does not end in chunked");
    chunked_seen = ascii_iequals(coding, "chunked");
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  if (!chunked_seen) return bad("Transfer-Encoding does not end in chunked");
  return std::nullopt;
}

// host[:port] of an authority, the port as a number (`default_port` when absent or empty).
struct Authority {
  std::string_view host;
  std::uint32_t port = 0;
};

// Parses an authority without userinfo. Host characters are stricter than RFC 3986's
// reg-name: sub-delims such as ',' or ';' have no place in a real host name and would let
// X-Forwarded-Host be read as a list by whoever consumes it.
std::optional<Authority> parse_authority(std::string_view s, std::uint32_t default_port) {
  Authority a;
  std::size_t i = 0;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    for (std::size_t k = 1; k < close; ++k)
      if (!is_hex(s[k]) && s[k] != ':' && s[k] != '.') return std::nullopt;
    i = close + 1;
  } else {
    while (i < s.size() && s[i] != ':') {
      const char c = s[i];
      if (!is_digit(c) && !is_alpha(c) && c != '-' && c != '.' && c != '_' && c != '~' &&
          c != '%')
        return std::nullopt;
      ++i;
    }
    if (i == 0) return std::nullopt;
  }
  a.host = s.substr(0, i);
  a.port = default_port;
  if (i == s.size()) return a;
  if (s[i] != ':') return std::nullopt;
  const auto port = s.substr(i + 1);
  if (port.size() > 5) return std::nullopt;
  if (port.empty()) return a;
  std::uint32_t n = 0;
  for (char c : port) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (n > 65535) return std::nullopt;
  a.port = n;
  return a;
}

// RFC 9112 §3.2.2: an origin server given an absolute-form target ignores Host and uses the
// target's authority. If corral routed, logged and set X-Forwarded-Host by Host while the
// upstream used the target, the two would disagree about which site is asked for.
std::optional<Rejection> check_target(const RequestHeader& h, std::optional<std::string_view> host) {
  const std::string_view target{h.target().data(), h.target().size()};
  if (h.method() == http::verb::connect) return bad("CONNECT is not supported");
  if (!target.empty() && target[0] == '/') return std::nullopt;  // origin-form
  if (target == "*") {
    if (h.method() == http::verb::options) return std::nullopt;
    return bad("bad request target");
  }

  std::uint32_t default_port = 0;
  std::string_view rest;
  if (target.size() > 7 && ascii_iequals(target.substr(0, 7), "http://")) {
    default_port = 80;
    rest = target.substr(7);
  } else if (target.size() > 8 && ascii_iequals(target.substr(0, 8), "https://")) {
    default_port = 443;
    rest = target.substr(8);
  } else {
    return bad("bad request target");
  }
  const auto authority_text = rest.substr(0, rest.find_first_of("/?#"));
  if (authority_text.find('@') != std::string_view::npos)
    return bad("userinfo in request target");
  const auto authority = parse_authority(authority_text, default_port);
  if (!authority) return bad("bad request target");
  if (!host) return bad("absolute-form target without Host");
  const auto host_authority = parse_authority(*host, default_port);
  if (!host_authority || host_authority->port != authority->port ||
      !ascii_iequals(host_authority->host, authority->host))
    return bad("absolute-form target names another host than Host");
  return std::nullopt;
}

}  // namespace

namespace {

// The index of the first CR, LF or NUL at or after `i`, or raw.size(): sixteen bytes a step where
// SSE2 is there (every x86-64), since all of a header passes here once.
std::size_t next_control(std::string_view raw, std::size_t i) {
  const std::size_t n = raw.size();
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i nul = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(raw.data() + i));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
                                     _mm_cmpeq_epi8(v, nul));
    if (const int mask = _mm_movemask_epi8(hit)) return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  for (; i < n; ++i) {
    const char c = raw[i];
    if (c == '\r' || c == '\n' || c == '\0') return i;
  }
  return n;
}

}  // namespace

std::optional<Rejection> screen_raw_header(std::string_view raw) {
  const std::size_t n = raw.size();
  for (std::size_t i = next_control(raw, 0); i < n; i = next_control(raw, i + 1)) {
    const char c = raw[i];
    if (c == '\0') return bad("NUL in header");
    if (c == '\n') return bad("bare LF in header");  // a LF after CR is skipped below
    // A CR. Bytes not received yet decide the remaining cases: wait for them.
    if (i + 1 == n) return std::nullopt;
    if (raw[i + 1] != '\n') return bad("bare CR in header");
    if (i + 2 == n) return std::nullopt;
    const char next = raw[i + 2];
    if (next == ' ' || next == '\t') return bad("obs-fold in header");
    if (next == '\r') {
      if (i + 3 == n) return std::nullopt;
      if (raw[i + 3] != '\n') return bad("bare CR in header");
      // The blank line ends the header; what follows is body and may hold any byte.
      return std::nullopt;
    }
    ++i;
  }
  return std::nullopt;
}

std::optional<Rejection> check_request_header(const RequestHeader& h) {
  std::size_t hosts = 0;
  std::size_t lengths = 0;
  std::size_t encodings = 0;
  std::string_view host;
  std::string_view length;
  std::string_view encoding;
  for (const auto& f : h) {
    const std::string_view name{f.name_string().data(), f.name_string().size()};
    const std::string_view value{f.value().data(), f.value().size()};
    if (!is_token(name)) return bad("invalid header name");
    switch (f.name()) {
      case http::field::host:
        ++hosts;
        host = value;
        break;
      case http::field::content_length:
        ++lengths;
        length = value;
        break;
      case http::field::transfer_encoding:
        ++encodings;
        encoding = value;
        break;
      default:
        break;
    }
  }

  if (encodings != 0) {
    // RFC 9112 §6.1: an HTTP/1.0 recipient may not know chunked, so the framing is faulty.
    if (h.version() < 11) return bad("Transfer-Encoding in HTTP/1.0 request");
    if (lengths != 0) return bad("Content-Length with Transfer-Encoding");
    // One field line only: upstreams disagree on whether they join lines or take one of them.
    if (encodings > 1) return bad("duplicate Transfer-Encoding");
    if (auto r = check_transfer_encoding(encoding)) return r;
  }

  // Identical duplicates are allowed by RFC 9110 §8.6, but nginx refuses them too: there is
  // no honest client that sends them, and an upstream may read "5, 5" as garbage.
  if (lengths > 1) return bad("duplicate Content-Length");
  if (lengths == 1) {
    if (length.find(',') != std::string_view::npos) return bad("duplicate Content-Length");
    if (length.empty()) return bad("bad Content-Length");
    for (char c : length)
      if (!is_digit(c)) return bad("bad Content-Length");
  }

  // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, with two, or with a bad one.
  if (hosts > 1) return bad("duplicate Host header");
  if (hosts == 0 && h.version() >= 11) return bad("missing Host header");
  if (hosts == 1 && !host.empty() && !parse_authority(host, 0)) return bad("bad Host header");

  return check_target(h, hosts == 1 ? std::optional<std::string_view>{host} : std::nullopt);
}

Rejection rejection_for_parse_error(const boost::system::error_code& ec) {
  if (ec == boost::beast::error::timeout)
    return {http::status::request_timeout, "request header timeout"};
  if (ec.category() != http::make_error_code(http::error::need_more).category())
    return bad("malformed request");
  switch (static_cast<http::error>(ec.value())) {
    case http::error::header_limit:
    case http::error::buffer_overflow:  // the read buffer only bounds the header
      return {http::status::request_header_fields_too_large, "request header too large"};
    case http::error::body_limit:
    case http::error::bad_alloc:  // a body too large to store
      return {http::status::payload_too_large, "request body too large"};
    case http::error::end_of_stream:
    case http::error::partial_message:
    case http::error::short_read:
      return bad("incomplete request");
    case http::error::bad_line_ending:
      return bad("bare CR (bad line ending)");
    case http::error::bad_method:
      return bad("bad request method");
    case http::error::bad_target:
      return bad("bad request target");
    case http::error::bad_version:
      return bad("bad HTTP version");
    case http::error::bad_field:
      return bad("invalid header name");
    case http::error::bad_value:
      return bad("invalid character in header value");
    case http::error::bad_content_length:
      return bad("bad Content-Length");
    case http::error::multiple_content_length:
      return bad("conflicting Content-Length values");
    case http::error::bad_transfer_encoding:
      return bad("bad Transfer-Encoding");
    case http::error::bad_chunk:  // also a chunk's data not followed by CRLF
      return bad("invalid chunk size or framing");
    case http::error::bad_chunk_extension:
      return bad("invalid chunk extension");
    case http::error::bad_obs_fold:
      return bad("obs-fold in header");
    case http::error::unexpected_body:
      return bad("unexpected request body");
    default:
      return bad("malformed request");
  }
}

}  // namespace corral::proxy
