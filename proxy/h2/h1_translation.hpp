#pragma once
// Pure: an HTTP/2 request's header list as an HTTP/1.1 request head, and an HTTP/1.1 response
// head as an HTTP/2 header list. HTTP/2 streams enter the request path as HTTP/1.1 messages,
// so every stage (guard, rewrite, sticky, sessions, queue, retries, access log) sees one shape.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/fields.hpp>

namespace corral::proxy::h2 {

struct Field {
  std::string name;  // lower case, as HTTP/2 requires
  std::string value;
};

// A field in place (e.g. in the buffer a head was parsed from).
struct FieldView {
  std::string_view name;
  std::string_view value;
};

// A request as its HEADERS frame (and CONTINUATIONs) carried it. nghttp2 has already checked
// the pseudo-headers, the field names and values, and refused connection-specific fields.
struct RequestHead {
  std::string method, scheme, authority, path;
  std::vector<Field> fields;  // regular fields, in order
  std::size_t list_bytes = 0;  // RFC 9113 6.5.2: name + value + 32 per field, pseudo ones too
  bool has_content_length = false;
};

// The HTTP/1.1 request head, ending in an empty line. `:authority` becomes Host (a Host field
// the client also sent is dropped: RFC 9113 8.3.1), cookie crumbs are joined with "; "
// (8.2.3), TE and Expect are left out (the proxy answers for the stream itself). A request
// with a body of unknown length (`body_follows` and no content-length) is framed as chunked:
// `*chunked` tells the caller to chunk-encode what follows.
std::string to_http1_request(const RequestHead& head, bool body_follows, bool* chunked);
// The same, appended to `out`.
void to_http1_request(const RequestHead& head, bool body_follows, bool* chunked,
                      std::string& out);

// The HTTP/2 header list of a response head: names lower-cased, connection-specific fields
// (Connection and what it names, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade)
// dropped. `:status` is not included.
std::vector<Field> to_h2_response(const boost::beast::http::fields& h);

// The HTTP/2 header list of a response head as views of its fields in place (names as they
// are: nghttp2 lower-cases its copy), connection-specific fields left out; into `out`
// (cleared first). `Fields`: Beast's basic_fields with any allocator.
template <class Fields>
void response_field_views(const Fields& h, std::vector<FieldView>& out);

// Whether a response field is connection-specific, so stays out of an HTTP/2 response
// (Connection and what `connection`, its value, names; Keep-Alive, Proxy-Connection,
// Transfer-Encoding, Upgrade).
bool connection_specific(boost::beast::http::field f, std::string_view name,
                         std::string_view connection);

// One chunk of a chunked HTTP/1.1 body: size line, data, CRLF (appended to `out`).
void append_chunk(std::string& out, std::string_view data);
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

template <class Fields>
void response_field_views(const Fields& h, std::vector<FieldView>& out) {
  out.clear();
  std::string_view connection;
  if (auto it = h.find(boost::beast::http::field::connection); it != h.end())
    connection = it->value();
  for (const auto& f : h) {
    const std::string_view name = f.name_string();
    if (!connection_specific(f.name(), name, connection))
      out.push_back({name, std::string_view(f.value())});
  }
}

}  // namespace corral::proxy::h2
