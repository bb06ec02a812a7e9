#pragma once
// One request as the stages of the request path see it: its header, what the stages learn on
// the way, and the answer a stage gives when it stops the request. A session keeps one and
// resets it for each request, so nothing here is allocated per request.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "balancer/balancer.hpp"
#include "proxy/asio.hpp"
#include "proxy/client_address.hpp"
#include "proxy/header_fields.hpp"
#include "proxy/shared_session.hpp"
#include "proxy/sticky_router.hpp"
#include "proxy/upstream_wait.hpp"

namespace corral::proxy {

// What a stage answers when it stops a request: a short plain-text error.
struct StageAnswer {
  http::status status{};
  std::string_view message;
  bool close = false;  // Connection: close, whether or not the request was read whole
};

struct RequestContext {
  using clock = std::chrono::steady_clock;

  // The connection's, set by the session.
  std::string_view peer_ip;              // the TCP peer, as text
  ForwardedClient* forwarded = nullptr;  // the client as a trusted proxy reports it
  bool http2 = false;                    // an HTTP/2 stream (logged as such)
  UpstreamWait* wait = nullptr;          // for a stage that holds the request for its upstream

  // The request's, from reset() on.
  RequestHeader* header = nullptr;
  clock::time_point started{};
  bool keep_alive = true;        // the client may send another request after this one
  bool upgrade = false;          // the request asks for a protocol upgrade (WebSocket)
  bool expect_continue = false;  // corral answers 100 Continue before reading the body
  unsigned client_version = 11;  // the HTTP version the client spoke
  std::array<char, 26> request_id_text{};  // 8 + 2 + up to 16 hex digits
  std::string_view request_id;
  StickyRequest sticky;    // balance: sticky: the session key and its pin
  RequestSession session;  // shared-state mode: the session loaded onto the request

  // Dispatch: the slot of the try that answered (or failed for good) and its pick's outcome.
  std::optional<balancer::SlotId> slot;
  balancer::PickOutcome pick_outcome = balancer::PickOutcome::miss;
  // Set by the stage that chose the upstream: a pinned slot that cannot serve is waited for
  // (sticky's on_unavailable: hold), so a queued request keeps its place for it.
  bool wait_for_pin = false;
  std::string_view upstream_name;
  clock::duration queued_for{};  // time in the proxy's queue

  // The answer.
  unsigned status = 0;  // 0: none sent
  std::uint64_t bytes_sent = 0;
  StageAnswer answer;   // set by a stage that stops the request

  // For the request in `h`; `keep` when the client and the proxy let the connection go on
  // (not draining), `asks_upgrade` when the parser saw an upgrade request.
  void reset(RequestHeader& h, bool keep, bool asks_upgrade) {
    header = &h;
    started = clock::now();
    keep_alive = keep;
    upgrade = asks_upgrade;
    expect_continue = false;
    client_version = h.version();
    request_id = {};
    slot.reset();
    pick_outcome = balancer::PickOutcome::miss;
    wait_for_pin = false;
    upstream_name = {};
    queued_for = {};
    status = 0;
    bytes_sent = 0;
    answer = {};
  }

  // Whether a stage stopped the request (its answer is sent).
  bool stopped() const { return answer.status != http::status{}; }

  // Stops the request with `status` and `message`.
  void stop(http::status s, std::string_view message, bool close_connection) {
    answer = {s, message, close_connection};
  }
};

}  // namespace corral::proxy
