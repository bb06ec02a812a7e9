#pragma once
// A client connection while it is busy: from the first bytes of a request until the connection
// is idle again (no bytes pipelined behind the last response) or closes. Reads requests, picks an
// upstream, relays each exchange. Owns its lifetime (shared_ptr held by its coroutine and its
// timer), as in Beast's examples; its memory comes from the thread's free list, and the idle
// connection (ClientConnection) is all that stays between busy periods.
#include <array>
#include <chrono>
#include <memory>
#include <optional>

#include "balancer/slot.hpp"
#include "balancer/sticky.hpp"
#include "proxy/asio.hpp"
#include "proxy/block_pool.hpp"
#include "proxy/client_address.hpp"
#include "proxy/client_connection.hpp"
#include "proxy/dispatch_queue.hpp"
#include "proxy/exchange_outcome.hpp"
#include "proxy/header_rewrite.hpp"
#include "proxy/request_guard.hpp"
#include "proxy/shared_session.hpp"
#include "proxy/sticky_router.hpp"

namespace corral::proxy {

class ProxyThread;
struct UpstreamConnection;

class DownstreamSession : public std::enable_shared_from_this<DownstreamSession> {
 public:
  // Serves `connection` whose next request begins with `first_bytes`.
  static void start(std::unique_ptr<ClientConnection> connection, std::string_view first_bytes);

  DownstreamSession(ProxyThread& thread, std::unique_ptr<ClientConnection> connection);
  ~DownstreamSession();

 private:
  using clock = std::chrono::steady_clock;
  enum class Phase { idle, header, connect, send, wait_response, relay, tunnel };

  awaitable<void> run();
  awaitable<bool> read_request_header(bool first);
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
  awaitable<ExchangeOutcome> exchange(balancer::SlotId slot, bool& body_started,
                                      bool fresh = false);
  awaitable<ExchangeOutcome> send_request(UpstreamConnection& c, bool& body_started);
  awaitable<bool> relay_response(UpstreamConnection& c, bool upgrade);
  awaitable<void> tunnel(UpstreamConnection& c);
  // The request on dispatched_slot_ is over for the slot's in-flight count (answered, failed,
  // or turned into a tunnel).
  void end_dispatch();
  // The body relay buffer for this step: a pooled 4 KiB block when `small` (the body is known
  // to fit one), else a 64 KiB buffer; given back at the end of the request.
  char* relay_buffer(bool small);
  void give_back_relay();
  template <typename From, typename To>
  awaitable<void> pump(From& from, To& to, char* buf);
  // `extra_headers`: whole header lines, each ending in CRLF (e.g. Retry-After).
  awaitable<void> send_error(http::status status, std::string_view message, bool close,
                             std::string_view extra_headers = {});

  // Timeouts: one timer, re-armed only when a deadline moves earlier; expiry cancels the sockets.
  void arm(clock::duration d) { arm_at(clock::now() + d); }
  void arm_at(clock::time_point deadline);
  void disarm() { armed_ = false; }
  void on_timer(error_code ec);
  void cancel_io();
  clock::duration drain_grace() const;
  bool draining() const { return conn_->draining(); }

  ProxyThread& t_;
  std::unique_ptr<ClientConnection> conn_;  // handed back when the connection is idle
  ClientSocket& client_;
  beast::basic_flat_buffer<BlockAllocator<char>> client_buf_;
  asio::steady_timer timer_;
  clock::time_point deadline_{};
  clock::time_point timer_at_{clock::time_point::max()};
  bool armed_ = false;
  bool expired_ = false;
  bool client_gone_ = false;  // closed by the client while its request waited in the queue
  Phase phase_ = Phase::idle;

  std::optional<http::request_parser<http::buffer_body, FieldAllocator<char>>> req_;
  std::optional<http::response_parser<http::buffer_body, FieldAllocator<char>>> res_;
  std::unique_ptr<UpstreamConnection> upstream_;

  // Per-request facts, reset for each request.
  char* relay_buf_ = nullptr;
  std::size_t relay_size_ = 0;
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
