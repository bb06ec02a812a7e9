#include "proxy/header_rewrite.hpp"

#include <array>
#include <cstddef>
#include <string>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace corral::proxy {

namespace {

constexpr std::string_view x_forwarded_for = "X-Forwarded-For";
constexpr std::string_view x_forwarded_proto = "X-Forwarded-Proto";
constexpr std::string_view x_forwarded_host = "X-Forwarded-Host";
constexpr std::string_view x_request_id = "X-Request-Id";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Compares a header name with a lower-case pattern. '_' in the name matches '-' in the
// pattern: CGI, WSGI, Rack and PHP map both to the same variable (HTTP_X_CORRAL_...), so a
// client could otherwise smuggle "X_Corral_Slot" past a check that only knows the dash form.
// Apache httpd and nginx drop such names for the same reason.
bool name_equals(std::string_view name, std::string_view lower_pattern) {
  if (name.size() != lower_pattern.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = lower(name[i]);
    if (c == '_') c = '-';
    if (c != lower_pattern[i]) return false;
  }
  return true;
}

bool name_starts_with(std::string_view name, std::string_view lower_prefix) {
  return name.size() >= lower_prefix.size() &&
         name_equals(name.substr(0, lower_prefix.size()), lower_prefix);
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Whether a header that arrived on this hop must not travel to the next one.
//
// The list follows RFC 9110 §7.6.1 plus the RFC 2616 §13.5.1 names that are still sent in
// practice. nginx's proxy module drops Connection, Proxy-Connection, Keep-Alive, TE, Upgrade
// (and Expect, which corral leaves to the session that answers 100-continue) but forwards
// Proxy-Authorization and ignores the names listed in Connection; HAProxy drops Connection,
// Proxy-Connection, Keep-Alive and Upgrade. Corral goes further in two ways, as Go's
// httputil.ReverseProxy does:
//  - Proxy-Authorization / Proxy-Authenticate are removed. Corral never authenticates as a
//    proxy, so credentials addressed to a proxy belong to one on the client's side; passing
//    them to the application would leak them to a party they were not meant for.
//  - Every other Proxy-* name and the bare "Proxy" header are removed too: "Proxy" becomes
//    HTTP_PROXY under CGI-style servers and redirects their outgoing requests (httpoxy,
//    CVE-2016-5385).
bool is_hop_by_hop(const Fields::value_type& f, bool upgrade) {
  switch (f.name()) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::te:
    case http::field::trailer:
    case http::field::proxy_connection:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
      return true;
    case http::field::upgrade:
      return !upgrade;
    default:
      break;
  }
  const std::string_view name = f.name_string();
  return name_equals(name, "proxy") || name_starts_with(name, "proxy-");
}

// Headers that only corral may set: X-Corral-* carries internal state between corral and its
// workers, and the underscore spellings of the X-Forwarded-* names would reach a CGI-style
// application under the same variable as the values corral sets.
bool is_internal(std::string_view name) {
  if (name.size() < 9 || lower(name[0]) != 'x') return false;
  if (name_starts_with(name, "x-corral-")) return true;
  if (name.find('_') == std::string_view::npos) return false;
  return name_equals(name, "x-forwarded-for") || name_equals(name, "x-forwarded-proto") ||
         name_equals(name, "x-forwarded-host");
}

// Names in Connection whose removal would change the message rather than the hop: dropping
// Content-Length or Transfer-Encoding would unframe the body the serializer sends, and
// dropping Host would leave the upstream without a target authority ("Connection: Host" is a
// known trick to confuse proxies).
bool is_protected_from_connection(std::string_view token) {
  return ascii_iequals(token, "content-length") || ascii_iequals(token, "transfer-encoding") ||
         ascii_iequals(token, "host") || ascii_iequals(token, "connection");
}

// Removes the headers named in Connection (RFC 9110 §7.6.1), then every hop-by-hop and
// internal header, in one pass over the fields.
void remove_hop_by_hop(Fields& h, bool upgrade) {
  // Fields are a linked list in arrival order: erasing other fields keeps `f` valid, and
  // Connection fields themselves are never erased here (they are protected above).
  for (const auto& f : h) {
    if (f.name() != http::field::connection) continue;
    for (const auto& token : http::opt_token_list{f.value()}) {
      const std::string_view name{token.data(), token.size()};
      if (is_protected_from_connection(name)) continue;
      if (upgrade && ascii_iequals(name, "upgrade")) continue;
      h.erase(token);
    }
  }
  for (auto it = h.begin(); it != h.end();) {
    if (is_hop_by_hop(*it, upgrade) || is_internal(it->name_string()))
      it = h.erase(it);
    else
      ++it;
  }
  if (upgrade) h.set(http::field::connection, "upgrade");
}

// What a request carries of the fields rewrite_request sets, found in one pass. Beast's table
// knows none of these names, so only fields it stores as `unknown` are compared.
struct ForwardingFields {
  std::size_t forwarded_for_bytes = 0;  // the non-empty X-Forwarded-For values, joined
  bool forwarded_for = false;
  bool forwarded_proto = false;
  bool forwarded_host = false;
  bool request_id = false;
  bool request_id_empty = true;  // the first X-Request-Id's value

  explicit ForwardingFields(const Fields& h) {
    for (const auto& f : h) {
      if (f.name() != http::field::unknown) continue;
      const std::string_view name = f.name_string();
      if (name.size() < x_request_id.size() || lower(name[0]) != 'x') continue;
      if (ascii_iequals(name, x_forwarded_for)) {
        forwarded_for = true;
        if (!f.value().empty()) forwarded_for_bytes += f.value().size() + 2;
      } else if (ascii_iequals(name, x_forwarded_proto)) {
        forwarded_proto = true;
      } else if (ascii_iequals(name, x_forwarded_host)) {
        forwarded_host = true;
      } else if (ascii_iequals(name, x_request_id)) {
        if (!request_id) request_id_empty = f.value().empty();
        request_id = true;
      }
    }
  }
};

// Sets a field Beast's table does not know, replacing any the request had (`had`): a plain
// append when it had none.
void put_unknown(Fields& h, std::string_view name, bool had, std::string_view value) {
  if (had) h.erase(name);
  h.insert(http::field::unknown, name, value);
}

// Appends the client address to X-Forwarded-For, joining earlier field lines into one (RFC
// 9110 §5.3 makes them equivalent). The joined value is built on the stack when it fits, so
// the common case allocates only the field Beast stores.
void append_forwarded_for(Fields& h, const ForwardingFields& seen, std::string_view client_ip) {
  if (!seen.forwarded_for) {
    if (!client_ip.empty()) h.insert(http::field::unknown, x_forwarded_for, client_ip);
    return;
  }
  const std::size_t size = client_ip.size() + seen.forwarded_for_bytes;
  std::array<char, 512> stack;
  std::string heap;
  char* out = stack.data();
  if (size > stack.size()) {
    heap.resize(size);
    out = heap.data();
  }
  std::size_t n = 0;
  auto put = [&](std::string_view s) {
    if (n != 0) {
      out[n++] = ',';
      out[n++] = ' ';
    }
    s.copy(out + n, s.size());
    n += s.size();
  };
  for (const auto& f : h)
    if (f.name() == http::field::unknown && ascii_iequals(f.name_string(), x_forwarded_for) &&
        !f.value().empty())
      put({f.value().data(), f.value().size()});
  if (!client_ip.empty()) put(client_ip);
  h.erase(x_forwarded_for);
  if (n != 0) h.insert(http::field::unknown, x_forwarded_for, std::string_view{out, n});
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Joins the comma-separated elements of every `field` line that `keep` accepts into one line,
// or removes the field when none is left. Returns how many elements were kept. Elements are
// split on commas, not read as tokens: Upgrade's may carry a version ("websocket/13").
template <class Keep>
std::size_t filter_tokens(Fields& h, http::field field, Keep keep) {
  std::string kept;
  std::size_t count = 0;
  bool dropped = false;
  for (const auto& f : h) {
    if (f.name() != field) continue;
    std::string_view rest{f.value().data(), f.value().size()};
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view t = trim_ows(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (t.empty()) continue;
      if (!keep(t)) {
        dropped = true;
        continue;
      }
      if (!kept.empty()) kept += ", ";
      kept += t;
      ++count;
    }
  }
  if (!dropped) return count;
  if (count == 0)
    h.erase(field);
  else
    h.set(field, kept);
  return count;
}

}  // namespace

bool remove_h2c_upgrade(Fields& h) {
  h.erase("HTTP2-Settings");
  if (h.find(http::field::upgrade) == h.end()) return false;
  const std::size_t left = filter_tokens(h, http::field::upgrade, [](std::string_view t) {
    return !ascii_iequals(t.substr(0, t.find('/')), "h2c");
  });
  filter_tokens(h, http::field::connection, [left](std::string_view t) {
    if (ascii_iequals(t, "http2-settings")) return false;
    return left > 0 || !ascii_iequals(t, "upgrade");
  });
  return left > 0;
}

void rewrite_request(Fields& h, const ForwardContext& ctx, bool upgrade) {
  remove_hop_by_hop(h, upgrade);
  const ForwardingFields seen(h);

  append_forwarded_for(h, seen, ctx.client_ip);
  put_unknown(h, x_forwarded_proto, seen.forwarded_proto, ctx.tls ? "https" : "http");

  // A request without Host (HTTP/1.0) must not forward a client-chosen X-Forwarded-Host.
  const auto host = h.find(http::field::host);
  if (host != h.end() && !host->value().empty())
    put_unknown(h, x_forwarded_host, seen.forwarded_host, host->value());
  else if (seen.forwarded_host)
    h.erase(x_forwarded_host);

  // An empty X-Request-Id identifies nothing in the logs: replace it like a missing one.
  if (seen.request_id_empty && !ctx.request_id.empty())
    put_unknown(h, x_request_id, seen.request_id, ctx.request_id);
}

void rewrite_response(Fields& h, bool upgrade) { remove_hop_by_hop(h, upgrade); }

std::string_view request_id_of(const Fields& h) {
  const auto it = h.find(x_request_id);
  if (it == h.end()) return {};
  return {it->value().data(), it->value().size()};
}

}  // namespace corral::proxy
