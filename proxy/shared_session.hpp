#pragma once
// Shared-state mode on the request path: the session is loaded onto the request on the way
// in, and the app's X-Corral-Session-Set / X-Corral-Session-Clear answer is applied to the
// store and the cookie on the way out (see docs/sessions.md).
#include <optional>
#include <string>

#include "config/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/header_fields.hpp"
#include "session/session_id.hpp"

namespace corral::session {
class SessionStore;
}

namespace corral::proxy {

// What one request knows about its session.
struct RequestSession {
  std::optional<session::SessionId> id;  // from the cookie, when it has the shape of an id
  bool loaded = false;                   // the store had a live session under it
  bool load_failed = false;  // the store did not answer: the session may or may not be live
};

enum class SessionStep { ok, store_down };

// Removes the session header a client sent and reads the session cookie into `s.id`. No I/O:
// a request without a well-formed session id goes on without a Redis round trip.
void prepare_session(const config::Sessions& cfg, Fields& req, RequestSession& s);

// For a request with `s.id`: the session from the thread's cache, set as the configured header
// (no I/O); false when it is not there (then load_session).
bool load_cached_session(session::SessionStore& store, Fields& req, RequestSession& s);

// For a request with `s.id`: loads the session and sets it (JSON) as the configured header,
// renewing its TTL when due, in one Redis round trip. store_down: the store did not answer within its
// command timeout; the request then carries no session and the caller applies on_store_down.
awaitable<SessionStep> load_session(session::SessionStore& store, Fields& req,
                                    RequestSession& s);

// Whether the app's response carries X-Corral-Session-Set or X-Corral-Session-Clear.
bool has_session_answer(const Fields& res);

// Reads and removes X-Corral-Session-Set / X-Corral-Session-Clear from the app's response,
// applies them to the store, and adds the Set-Cookie that creates or ends the session
// (Secure when `tls`). store_down: the change could not be written in time.
awaitable<SessionStep> apply_session_answer(session::SessionStore& store, Fields& res,
                                            RequestSession& s, bool tls);

// The Redis host to connect to: the configured name resolved once, at start (hiredis would
// resolve it on the proxy thread at each reconnect); the name itself when it does not resolve.
std::string redis_connect_host(const config::RedisTarget& target);

}  // namespace corral::proxy
