#pragma once
// One client connection: reads requests, picks an upstream, relays each exchange, keeps the
// connection alive between requests. Owns its lifetime (shared_ptr held by its coroutine and
// its timer), as in Beast's examples.
#include <array>
#include <chrono>
#include <memory>
#include <optional>

#include "balancer/slot.hpp"
#include "balancer/sticky.hpp"
#include "proxy/asio.hpp"
#include "proxy/block_pool.hpp"
#include "proxy/client_address.hpp"
#include "proxy/dispatch_queue.hpp"
#include "proxy/drainable.hpp"
#include "proxy/header_rewrite.hpp"
#include "proxy/request_guard.hpp"
#include "proxy/shared_session.hpp"
#include "proxy/socket_stream.hpp"
#include "proxy/sticky_router.hpp"

namespace corral::proxy {

class ProxyThread;
struct UpstreamConnection;

class DownstreamSession
    : public std::enable_shared_from_this<DownstreamSession>, public Drainable {
 public:
  // `tls`: the listener's TLS context on this thread, or null for plain HTTP. `h2c`: a plain
  // listener that also takes HTTP/2 with prior knowledge.
  DownstreamSession(ProxyThread& thread, tcp::socket socket, ssl::context* tls = nullptr,
                    bool h2c = false);
  // One HTTP/2 stream of a client connection from `peer`, as an HTTP/1.1 request on `pipe`.
  DownstreamSession(ProxyThread& thread, h2::PipeEnd pipe, const tcp::endpoint& peer, bool secure);
  ~DownstreamSession();

  awaitable<void> run();
  void drain() override;

 private:
  using clock = std::chrono::steady_clock;
  enum class Phase { idle, header, connect, send, wait_response, relay, tunnel };
  enum class Outcome { ok, retry, retry_same, bad_gateway, gateway_timeout, client_error, abort };

  awaitable<bool> read_request_header(bool first);
  // A plain connection opens with the HTTP/2 preface (peeked: nothing is read).
  awaitable<bool> h2_preface_follows();
  // Serves the connection as HTTP/2 (h2/h2_front), each stream on a session of its own.
  awaitable<void> serve_h2();
  awaitable<bool> handle_request();
  enum class Waited { granted, timeout, full, client_gone };
  // Waits in the proxy's queue for `ticket` to be granted a slot, until `deadline`; the client
  // closing its connection takes it out.
  awaitable<Waited> wait_in_queue(std::shared_ptr<QueueTicket> ticket, bool front,
                                  clock::time_point deadline);
  // balance: sticky: the pick for this try; under on_unavailable: hold, waits (bounded) for the
  // pinned slot before failing over.
  awaitable<balancer::StickyPick> sticky_pick(balancer::RequestView& view);
  // on_unavailable: hold, after the pinned slot failed a try (refused or reset: its worker may
  // just have died, before the proxy knows): true once the slot is back (a new worker, or
  // re-admitted); false at once when the slot is not taken down within a short grace (the
  // worker is alive: the failure was the connection's, not the worker's).
  awaitable<bool> wait_for_restart(balancer::SlotId slot);
  // One try on `slot`; `fresh` skips the pooled connections (after one turned out closed).
  awaitable<Outcome> exchange(balancer::SlotId slot, bool& body_started, bool fresh = false);
  awaitable<Outcome> send_request(UpstreamConnection& c, bool& body_started);
  awaitable<bool> relay_response(UpstreamConnection& c, bool upgrade);
  awaitable<void> tunnel(UpstreamConnection& c);
  // The request on dispatched_slot_ is over for the slot's in-flight count (answered, failed,
  // or turned into a tunnel).
  void end_dispatch();
  awaitable<void> pump(SocketStream& from, SocketStream& to, char* buf);
  // `extra_headers`: whole header lines, each ending in CRLF (e.g. Retry-After).
  awaitable<void> send_error(http::status status, std::string_view message, bool close,
                             std::string_view extra_headers = {});

  // Timeouts: one timer, re-armed only when a deadline moves earlier; expiry cancels the sockets.
  void arm(clock::duration d);
  void disarm() { armed_ = false; }
  void on_timer(error_code ec);
  void cancel_io();
  clock::duration drain_grace() const;

  ProxyThread& t_;
  SocketStream client_;
  beast::basic_flat_buffer<BlockAllocator<char>> client_buf_;
  // Between requests the connection holds no block: the next request's first bytes are read
  // here, then copied into one.
  std::array<char, 256> idle_bytes_;
  asio::steady_timer timer_;
  clock::time_point deadline_{};
  clock::time_point timer_at_{clock::time_point::max()};
  bool armed_ = false;
  bool expired_ = false;
  bool idle_ = true;
  bool draining_ = false;
  bool client_gone_ = false;
  bool h2c_ = false;  // the listener takes HTTP/2 with prior knowledge
  Drainable* h2_front_ = nullptr;  // while the connection speaks HTTP/2  // closed by the client while its request waited in the queue
  Phase phase_ = Phase::idle;

  std::optional<http::request_parser<http::buffer_body>> req_;
  std::optional<http::response_parser<http::buffer_body>> res_;
  std::unique_ptr<UpstreamConnection> upstream_;

  // Per-request facts, reset for each request.
  char* relay_buf_ = nullptr;
  bool client_keep_alive_ = true;
  bool expect_continue_ = false;
  bool head_ = false;
  unsigned client_version_ = 11;  // the request's HTTP version as the client sent it
  unsigned status_ = 0;
  clock::duration queued_for_{};  // this request's time in the proxy's queue
  std::optional<balancer::SlotId> dispatched_slot_;  // counted in flight there
  std::uint64_t bytes_sent_ = 0;
  std::string_view upstream_name_;
  RequestSession session_;
  std::array<char, 26> request_id_{};  // 8 + 2 + up to 16 hex digits
  std::string_view request_id_view_;
  std::array<char, 46> client_ip_{};
  std::string_view client_ip_view_;
  StickyRequest sticky_request_;  // balance: sticky: this request's session key and pin
  ForwardedClient forwarded_;  // sticky: the client as a trusted proxy reports it
};

}  // namespace corral::proxy
