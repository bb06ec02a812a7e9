#pragma once
// Header rewriting between downstream and upstream, as pure functions over Beast's fields.
#include <string_view>

#include "proxy/header_fields.hpp"

namespace corral::proxy {

namespace http = boost::beast::http;

// What the proxy knows about the connection a request came in on.
struct ForwardContext {
  std::string_view client_ip;   // "127.0.0.1" or "::1"
  bool tls = false;             // the client spoke https: X-Forwarded-Proto: https (a trusted
                                // proxy said so; corral has no TLS listener)
  std::string_view request_id;  // used when the request has no X-Request-Id
};

// Prepares a request header for the upstream: removes hop-by-hop headers (Connection and the
// headers it names, Keep-Alive, TE, Trailer, Transfer-Encoding is left to the serializer,
// Proxy-*, Upgrade unless `upgrade`), strips internal X-Corral-* headers a client sent,
// appends X-Forwarded-For, sets X-Forwarded-Proto and X-Forwarded-Host (from Host), sets
// X-Request-Id unless present. With `upgrade` it keeps "Connection: upgrade" and Upgrade.
void rewrite_request(Fields& h, const ForwardContext& ctx, bool upgrade);

// Removes an HTTP/2 cleartext upgrade (RFC 7540 §3.2) from a request: the h2c token of
// Upgrade (the whole field when nothing else is left), HTTP2-Settings, and their names in
// Connection, so that the request is served as plain HTTP/1.1. corral tunnels other upgrades
// (WebSocket) after the app's 101; a tunnelled h2c connection would carry every later request
// past corral's checks. nginx, by default, does not forward Upgrade either. Returns whether
// Upgrade still names a protocol (the request still asks for an upgrade).
bool remove_h2c_upgrade(Fields& h);

// Prepares a response header for the client: removes hop-by-hop headers (as above) and
// internal X-Corral-* headers; keeps Upgrade/Connection: upgrade on a 101.
void rewrite_response(Fields& h, bool upgrade);

// The request id the request carries (X-Request-Id), or empty.
std::string_view request_id_of(const Fields& h);

}  // namespace corral::proxy
