#include "proxy/downstream_session.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "proxy/h2/h2_front.hpp"
#include "proxy/message_writer.hpp"
#include "proxy/proxy_thread.hpp"
#include "proxy/tls_accept.hpp"
#include "proxy/tls_server.hpp"
#include "proxy/upstream_pool.hpp"

namespace corral::proxy {

namespace {

constexpr std::size_t read_chunk = read_block_size;

bool is_idempotent(http::verb v) {
  switch (v) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

// The head of a message being written: in a block of the thread's, or past 64 KiB a string.
class PooledHead {
 public:
  PooledHead() = default;
  PooledHead(const PooledHead&) = delete;
  PooledHead& operator=(const PooledHead&) = delete;
  ~PooledHead() { release(); }

  template <class Header>
  std::string_view write(const Header& h, ProxyThread& t) {
    const std::size_t n = head_size(h);
    if (n > relay_buffer_size) {
      big_.resize(n);
      write_head(h, big_.data());
      return big_;
    }
    list_ = n <= read_block_size ? &t.blocks : &t.buffers;
    block_ = static_cast<char*>(list_->take());
    return {block_, static_cast<std::size_t>(write_head(h, block_) - block_)};
  }
  // Once the head is on the wire.
  void release() noexcept {
    if (block_) list_->give_back(block_);
    block_ = nullptr;
    std::string().swap(big_);
  }

 private:
  FreeList* list_ = nullptr;
  char* block_ = nullptr;
  std::string big_;
};

std::string_view header_end(std::string_view raw) {
  auto end = raw.find("\r\n\r\n");
  return end == std::string_view::npos ? raw : raw.substr(0, end + 4);
}

}  // namespace

void DownstreamSession::start(std::unique_ptr<ClientConnection> connection,
                              std::string_view first_bytes) {
  ProxyThread& t = connection->thread();
  auto session = std::allocate_shared<DownstreamSession>(
      FreeListAllocator<DownstreamSession>(t.session_memory), t, std::move(connection));
  auto room = session->client_buf_.prepare(read_chunk);
  std::memcpy(room.data(), first_bytes.data(), first_bytes.size());
  session->client_buf_.commit(first_bytes.size());
  asio::co_spawn(t.ioc, session->run(), asio::detached);
}

void DownstreamSession::start(ProxyThread& thread, tcp::socket socket, ssl::context* tls,
                              bool h2c) {
  auto session = std::make_shared<DownstreamSession>(thread, std::move(socket), tls, h2c);
  asio::co_spawn(thread.ioc, session->run_stream(), asio::detached);
}

void DownstreamSession::resume_tls(std::unique_ptr<ClientConnection> connection,
                                   std::string_view early) {
  ProxyThread& t = connection->thread();
  std::optional<boost::asio::ip::address> peer;
  if (connection->peer_known()) peer = connection->peer();
  auto session = std::allocate_shared<DownstreamSession>(
      FreeListAllocator<DownstreamSession>(t.session_memory), t, connection->hand_over_tls(),
      connection->draining(), peer);
  // The bytes the idle connection read: copied before it goes, and OpenSSL's first.
  if (!early.empty()) {
    std::memcpy(session->tls_early_.data(), early.data(), early.size());
    session->own_->tls().give_early(session->tls_early_.data(), early.size());
  }
  connection.reset();
  asio::co_spawn(t.ioc, session->run_stream(), asio::detached);
}

DownstreamSession::DownstreamSession(ProxyThread& thread, std::unique_ptr<SocketStream> tls,
                                     bool draining,
                                     const std::optional<boost::asio::ip::address>& peer)
    : t_(thread),
      own_(std::move(tls)),
      client_(thread.ioc.get_executor(), *own_),
      client_buf_(FreeListAllocator<char>(thread.blocks)),
      timer_(thread.ioc),
      draining_(draining),
      resumed_(true),
      readable_(true) {
  // The address the session before this one knew: no getpeername per request.
  if (peer) {
    set_peer(*peer, true);
  } else {
    error_code ec;
    auto ep = own_->remote_endpoint(ec);
    if (!ec) set_peer(ep.address(), true);
  }
  t_.attach(*this);
}

DownstreamSession::DownstreamSession(ProxyThread& thread, std::unique_ptr<ClientConnection> connection)
    : t_(thread),
      conn_(std::move(connection)),
      client_(thread.ioc.get_executor(), conn_->socket()),
      client_buf_(FreeListAllocator<char>(thread.blocks)),
      timer_(thread.ioc) {
  if (conn_->peer_known()) set_peer(conn_->peer(), false);
}

DownstreamSession::DownstreamSession(ProxyThread& thread, tcp::socket socket, ssl::context* tls,
                                     bool h2c)
    : t_(thread),
      own_(std::make_unique<SocketStream>(std::move(socket), tls)),
      client_(thread.ioc.get_executor(), *own_),
      client_buf_(FreeListAllocator<char>(thread.blocks)),
      timer_(thread.ioc),
      h2c_(h2c) {
  error_code ec;
  auto ep = own_->remote_endpoint(ec);
  if (!ec) set_peer(ep.address(), own_->secure());
  own_->set_option(tcp::no_delay(true), ec);
  t_.attach(*this);
}

DownstreamSession::DownstreamSession(ProxyThread& thread, h2::PipeEnd pipe,
                                     const tcp::endpoint& peer, bool secure,
                                     std::string_view head,
                                     std::shared_ptr<h2::StreamResponder> responder)
    : t_(thread),
      own_(std::make_unique<SocketStream>(thread.ioc, std::move(pipe), peer, secure)),
      stream_(std::move(responder)),
      client_(thread.ioc.get_executor(), *own_),
      client_buf_(FreeListAllocator<char>(thread.blocks)),
      timer_(thread.ioc) {
  auto room = client_buf_.prepare(std::max(head.size(), read_chunk));
  std::memcpy(room.data(), head.data(), head.size());
  client_buf_.commit(head.size());
  set_peer(peer.address(), secure);
  t_.attach(*this);
}

void DownstreamSession::set_peer(const boost::asio::ip::address& peer, bool secure) {
  // The peer's text without a std::string, into the session's own array: IPv4 by hand (glibc's
  // inet_ntop goes through sprintf, a few percent of a small request), IPv6 by inet_ntop.
  const char* text = nullptr;
  if (peer.is_v4()) {
    char* out = client_ip_.data();
    for (unsigned char byte : peer.to_v4().to_bytes()) {
      if (out != client_ip_.data()) *out++ = '.';
      if (byte >= 100) *out++ = static_cast<char>('0' + byte / 100);
      if (byte >= 10) *out++ = static_cast<char>('0' + byte / 10 % 10);
      *out++ = static_cast<char>('0' + byte % 10);
    }
    *out = '\0';
    text = client_ip_.data();
  } else {
    auto b = peer.to_v6().to_bytes();
    text = ::inet_ntop(AF_INET6, b.data(), client_ip_.data(), client_ip_.size());
  }
  if (text) client_ip_view_ = std::string_view(client_ip_.data());
  peer_ = peer;
  forwarded_.start(t_.shared.cfg, peer, secure);
}

DownstreamSession::~DownstreamSession() {
  give_back_relay();
  if (stream_) stream_->finish();  // an answer cut short resets its stream
  if (!own_) return;  // the ClientConnection counts the connection
  t_.detach(*this);
  if (own_->is_pipe()) return;  // a stream: its connection is counted once, by its session
  t_.metrics.connections_closed.add();
  t_.shared.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void DownstreamSession::drain() {
  if (h2_front_) {
    h2_front_->drain();  // GOAWAY: streams in progress finish
    return;
  }
  draining_ = true;
  // An idle keep-alive connection gets a short grace instead of an immediate close: a client
  // may be sending its next request right now, and that request is served (with
  // Connection: close) rather than lost to the close race. Silent ones close after the grace.
  if (idle_) arm(drain_grace());
}

DownstreamSession::clock::duration DownstreamSession::drain_grace() const {
  return ClientConnection::drain_grace(t_.shared.cfg.timeouts.drain);
}

// --- timeouts -----------------------------------------------------------------------------

void DownstreamSession::arm_at(clock::time_point deadline) {
  deadline_ = deadline;
  armed_ = true;
  expired_ = false;
  if (deadline_ < timer_at_) {
    timer_at_ = deadline_;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](error_code ec) { self->on_timer(ec); });
  }
}

void DownstreamSession::on_timer(error_code ec) {
  if (ec == asio::error::operation_aborted) return;  // re-armed earlier, or the session ended
  timer_at_ = clock::time_point::max();
  if (!armed_) return;
  auto now = clock::now();
  if (now >= deadline_) {
    expired_ = true;
    armed_ = false;
    cancel_io();
    return;
  }
  timer_at_ = deadline_;
  timer_.expires_at(deadline_);
  timer_.async_wait([self = shared_from_this()](error_code ec) { self->on_timer(ec); });
}

void DownstreamSession::cancel_io() {
  error_code ec;
  client_.cancel(ec);
  if (stream_) stream_->cancel();
  if (upstream_) upstream_->socket.cancel(ec);
}

// --- the connection -----------------------------------------------------------------------

awaitable<void> DownstreamSession::run() {
  auto self = shared_from_this();
  for (bool first = conn_->fresh();; first = false) {
    // No check of draining() here: the last response promised keep-alive, so the client may be
    // sending already; a pipelined request is served, an idle connection waits the drain grace.
    if (!co_await read_request_header(first)) {
      if (rq_.status != 0) t_.metrics.request_done(t_.shared.upstreams.size(), rq_.status, {});
      break;
    }
    conn_->served();
    bool keep = co_await handle_request();
    give_back_relay();
    if (!keep) break;
    if (client_buf_.size() == 0) {
      // Nothing pipelined: the connection waits for its next request without this session,
      // whose memory, block and timer go back to the thread.
      disarm();
      timer_.cancel();
      clock::duration wait = t_.shared.cfg.timeouts.idle;
      if (draining()) wait = std::min(wait, drain_grace());
      ClientConnection::wait_for_request(std::move(conn_), wait);
      co_return;
    }
  }
  disarm();
  timer_.cancel();
  conn_.reset();  // closes the connection
}

awaitable<void> DownstreamSession::run_stream() {
  auto self = shared_from_this();
  bool open = true;
  if (own_->is_tls() && !resumed_) {
    arm(t_.shared.cfg.timeouts.handshake);
    open = co_await accept_tls(*own_);
    if (open && negotiated_alpn(own_->tls().native_handle()) == "h2") {
      co_await serve_h2();
      co_return;
    }
  } else if (h2c_ && co_await h2_preface_follows()) {
    co_await serve_h2();
    co_return;
  }
  for (bool first = !resumed_; open; first = false) {
    // No check of draining_ here: the last response promised keep-alive, so the client may be
    // sending already; read_request_header waits only the drain grace for it.
    if (!co_await read_request_header(first)) {
      if (rq_.status != 0) t_.metrics.request_done(t_.shared.upstreams.size(), rq_.status, {});
      break;
    }
    bool keep = co_await handle_request();
    give_back_relay();
    if (!keep || own_->is_pipe()) break;  // an HTTP/2 stream carries one request
    if (own_->is_tls() && client_buf_.size() == 0 && !own_->tls().has_pending()) {
      // Nothing pipelined: the TLS connection waits for its next request without this session,
      // as a plain one does; its stream (socket and SSL) goes to a ClientConnection.
      disarm();
      timer_.cancel();
      t_.detach(*this);
      clock::duration wait = t_.shared.cfg.timeouts.idle;
      if (draining_) wait = std::min(wait, drain_grace());
      ClientConnection::wait_for_tls_request(
          std::unique_ptr<ClientConnection>(
              new (t_) ClientConnection(t_, std::move(own_), draining_, peer_)),
          wait);
      co_return;
    }
  }
  if (own_->is_tls() && open) {
    arm(drain_grace());  // close_notify is one small write; a client that reads nothing gets cut
    co_await own_->close_notify();
  }
  disarm();
  error_code ec;
  timer_.cancel();
  own_->shutdown(tcp::socket::shutdown_send, ec);
  own_->close(ec);
}

awaitable<bool> DownstreamSession::h2_preface_follows() {
  static constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  arm(t_.shared.cfg.timeouts.client_header);
  for (;;) {
    auto [ec] = co_await own_->async_wait(tcp::socket::wait_read, nothrow);
    if (ec || expired_) co_return false;
    std::array<char, preface.size()> head;
    auto n = ::recv(own_->native_handle(), head.data(), head.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) co_return false;  // closed, or an error the HTTP/1.1 read will meet
    const std::string_view got(head.data(), static_cast<std::size_t>(n));
    if (got != preface.substr(0, got.size())) co_return false;
    if (got.size() == preface.size()) co_return true;
    // The preface's start only: wait for the rest (it is sent at once; this is rare).
    asio::steady_timer pause(t_.ioc, std::chrono::milliseconds(5));
    co_await pause.async_wait(nothrow);
    if (expired_) co_return false;
  }
}

awaitable<void> DownstreamSession::serve_h2() {
  disarm();
  const auto& cfg = t_.shared.cfg;
  h2::Limits limits;
  limits.max_concurrent_streams = cfg.http2.max_concurrent_streams;
  limits.max_header_list_bytes = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(cfg.limits.max_header_bytes, 0x7fffffff));
  limits.stream_window = static_cast<std::uint32_t>(cfg.http2.stream_window);
  limits.connection_window = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(cfg.http2.stream_window * 4, 0x7fffffff));
  limits.reset_burst = cfg.http2.reset_burst;
  limits.reset_rate = cfg.http2.reset_rate;
  error_code ec;
  const tcp::endpoint peer = own_->remote_endpoint(ec);
  const bool secure = own_->secure();
  auto& thread = t_;
  auto front = std::make_shared<h2::Front<SocketStream&>>(
      *own_, limits,
      [&thread, peer, secure](h2::PipeEnd end, std::string_view head,
                              std::shared_ptr<h2::StreamResponder> responder) {
        auto stream = std::allocate_shared<DownstreamSession>(
            FreeListAllocator<DownstreamSession>(thread.session_memory), thread, std::move(end),
            peer, secure, head, std::move(responder));
        asio::co_spawn(thread.ioc, stream->run_stream(), asio::detached);
      },
      cfg.timeouts.idle);
  h2_front_ = front.get();
  if (draining_) front->drain();
  co_await front->run();
  h2_front_ = nullptr;
  error_code ignored;
  own_->close(ignored);
}

awaitable<bool> DownstreamSession::read_request_header(bool first) {
  const auto& cfg = t_.shared.cfg;
  req_.emplace();
  rq_.status = 0;
  rq_.request_id = {};
  req_->header_limit(static_cast<std::uint32_t>(cfg.limits.max_header_bytes));
  req_->body_limit(cfg.limits.max_body_bytes);
  if (conn_) {
    phase_ = Phase::header;
    // The first request's header is due client_header after the accept; a later one's after its
    // first byte.
    if (first) arm_at(conn_->deadline());
    else arm(cfg.timeouts.client_header);
  } else {
    // A connection the session owns waits for its next request here: idle until a byte comes.
    idle_ = true;
    phase_ = Phase::idle;
    clock::duration wait = first ? cfg.timeouts.client_header : cfg.timeouts.idle;
    if (draining_) wait = std::min(wait, drain_grace());
    arm(wait);
  }
  for (;;) {
    if (client_buf_.size() > 0) {
      if (idle_) {
        idle_ = false;
        phase_ = Phase::header;
        if (!first) arm(cfg.timeouts.client_header);
      }
      auto data = client_buf_.data();
      std::string_view raw(static_cast<const char*>(data.data()), data.size());
      if (auto r = screen_raw_header(header_end(raw))) {
        co_await send_error(r->status, r->message, true);
        co_return false;
      }
      error_code ec;
      auto used = req_->put(data, ec);
      client_buf_.consume(used);
      if (!ec && req_->is_header_done()) co_return true;
      if (ec && ec != http::error::need_more) {
        auto r = rejection_for_parse_error(ec);
        co_await send_error(r.status, r.message, true);
        co_return false;
      }
    }
    if (idle_ && client_buf_.size() == 0 && own_ && own_->is_tls() &&
        !own_->tls().has_pending()) {
      // An idle TLS connection waits for its next request without its read block, which goes
      // back to the thread until the client's bytes are there. Bytes already in the socket
      // (their readiness reported before this wait) are read at once.
      client_buf_.shrink_to_fit();
      char c;
      // A resumed session's first read needs no look: its socket was just reported readable.
      const bool ready = std::exchange(readable_, false);
      if (!ready && ::recv(own_->native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
          (errno == EAGAIN || errno == EWOULDBLOCK)) {
        auto [wec] = co_await own_->async_wait(tcp::socket::wait_read, nothrow);
        if (wec) co_return false;
      }
    }
    // The rest of the block already held, while a good part of it is free: a header that
    // arrives in pieces (one longer than the idle connection's first read) grows no buffer.
    const std::size_t room = client_buf_.capacity() - client_buf_.size();
    auto [ec, n] = co_await client_.async_read_some(
        client_buf_.prepare(room >= read_chunk / 4 ? room : read_chunk), nothrow);
    if (ec) {
      if (expired_ && !idle_)
        co_await send_error(http::status::request_timeout, "timed out reading the request header", true);
      co_return false;
    }
    client_buf_.commit(n);
  }
}

awaitable<bool> DownstreamSession::handle_request() {
  auto& req = req_->get();
  auto& shared = t_.shared;
  rq_.peer_ip = client_ip_view_;
  rq_.forwarded = &forwarded_;
  rq_.http2 = client_.is_pipe();
  rq_.wait = this;
  // The parser's keep_alive: from the flags it set while reading Connection, not a second
  // look-up and token scan of the stored field.
  rq_.reset(req,
            req_->keep_alive() && !draining() && !shared.draining.load(std::memory_order_relaxed),
            req_->upgrade());
  head_ = req.method() == http::verb::head;

  // The stages' request side, in order, until one stops the request; the loops are written out
  // here and in relay_response, not coroutines of their own, so that a stage costs a call.
  bool keep = true;
  for (RequestStage* stage : t_.chain->stages()) {
    auto verdict = stage->on_request_header(rq_);
    if (verdict == StageVerdict::suspend) verdict = co_await stage->resume_request_header(rq_);
    if (verdict == StageVerdict::answer) {
      keep = co_await send_stage_answer();
      break;
    }
  }
  if (!rq_.stopped()) {
    // Dispatch, as `Dispatch` decides each step: the chain chooses the upstream (a stage's
    // choice, e.g. sticky's pin and hold, else the thread's balancer), the queue gives it room,
    // the exchange, a failed try held by its stage or retried, else answered. Written out here
    // rather than as a coroutine of its own: a second frame per request would cost an allocation.
    Dispatch& d = dispatch_;  // a member, not a local: the frame stays small enough to be recycled
    DispatchQueue& queue = shared.queue;
    d.begin(queue.enabled(), rq_.started + shared.cfg.timeouts.queue, shared.cfg.retries);
    rq_.queued_for = {};
    const auto downs = [&slots = shared.slots](balancer::SlotId s) { return slots.downs(s); };
    DispatchStep step;
    for (;;) {
      balancer::RequestView view{req.method_string(), req.target(), {}, d.exclusions(downs), {}};
      // Choose: the common case (no Redis lookup due, the pin can serve or need not be waited
      // for, or no stage that chooses) is a plain call, no coroutine frame.
      balancer::Pick pick;
      RequestStage* chooser = nullptr;
      if (t_.chain->choose_upstream(rq_, view, pick, chooser) == ChoiceVerdict::suspend)
        pick = co_await chooser->resume_choose_upstream(rq_, view);
      // Room: a worker slot below its in-flight limit, or a wait in the queue for one; a static
      // upstream starts at once.
      step = d.on_pick(pick, req_->is_done());
      if (step == DispatchStep::queue)
        step = d.slot() && queue.try_start(*d.slot()) ? DispatchStep::start : co_await wait_in_queue();
      else if (step == DispatchStep::start)
        queue.start(*d.slot());
      if (step == DispatchStep::answer) break;
      // Exchange: the request upstream, the response header back, then the relay.
      const balancer::SlotId slot = *d.slot();
      rq_.upstream_name = shared.upstreams[slot].name;
      dispatched_slot_ = slot;
      const auto dispatched = clock::now();
      auto outcome = co_await exchange(slot, d.body_started());
      if (outcome == ExchangeOutcome::retry_same) {
        // A pooled connection the upstream had closed: not the upstream's fault, try afresh.
        outcome = co_await exchange(slot, d.body_started(), /*fresh=*/true);
      }
      step = d.on_try(outcome);
      if (step == DispatchStep::relay) {
        queue.on_response(slot, dispatched, clock::now() - dispatched);
        rq_.slot = slot;
        rq_.pick_outcome = d.pick().outcome;
        if (d.attempt() > 0) t_.metrics.masked_failures.add();
        keep = co_await relay_response(*upstream_, rq_.upgrade);
        end_dispatch();
        break;
      }
      end_dispatch();
      upstream_.reset();
      if (step == DispatchStep::hold && chooser &&
          chooser->on_failed_try(rq_, d.tried()) == StageVerdict::suspend) {
        d.held();
        if (co_await chooser->resume_failed_try(rq_, d.tried())) continue;
      }
      step = d.on_failure(clock::now(), shared.slots.downs(slot), req_->is_done());
      if (step == DispatchStep::answer) {
        rq_.slot = slot;
        break;
      }
      t_.metrics.retries.add();
    }
    if (step == DispatchStep::answer) {
      const FailureAnswer& a = d.answer();
      if (a.send) co_await send_error(a.status, a.message, a.close, a.extra_headers);
      keep = a.keep_alive;
    }
  }
  upstream_.reset();
  for (RequestStage* stage : t_.chain->stages()) stage->on_end(rq_);
  // Not `&& !draining()`: a drain that began after the response promised keep-alive must still
  // read the request the client may be sending; the idle connection waits the drain grace for it.
  co_return keep && rq_.keep_alive;
}

awaitable<bool> DownstreamSession::send_stage_answer() {
  const StageAnswer answer = rq_.answer;
  co_await send_error(answer.status, answer.message, answer.close);
  co_return !answer.close && req_->is_done();
}

awaitable<DispatchStep> DownstreamSession::wait_in_queue() {
  DispatchQueue& queue = t_.shared.queue;
  Dispatch& d = dispatch_;
  const bool request_read = req_->is_done();
  auto ticket = std::make_shared<QueueTicket>(t_.ioc);
  if (d.pinned()) {
    ticket->only = d.slot();
    ticket->only_while_usable = !rq_.wait_for_pin;
  }
  const auto failed = d.failed();
  std::copy(failed.begin(), failed.end(), ticket->failed.begin());
  ticket->nfailed = failed.size();
  const auto since = clock::now();
  // One that failed on a slot before goes back to the head of the queue.
  const auto entered = queue.enqueue(ticket, /*front=*/!failed.empty());
  if (entered == DispatchQueue::Entered::full) co_return d.on_wait(QueueWait::full, {}, request_read);
  // A session destroyed while it waits (its thread stops) takes its ticket out of the queue, so
  // that no ticket outlives the io_context of its timer.
  struct LeaveOnDestroy {
    DispatchQueue& queue;
    QueueTicket& ticket;
    bool armed = true;
    ~LeaveOnDestroy() {
      if (armed) queue.leave(ticket);
    }
  } leave_on_destroy{queue, *ticket};
  // The ticket's timer bounds the wait; the session's own deadline stays out of it.
  disarm();
  client_gone_ = false;
  // A client that goes away leaves the queue: watch for its close while nothing else is read.
  // Bytes that arrive instead (a body, a pipelined request) end the watch: they are read later.
  bool watching = false;
  if (entered == DispatchQueue::Entered::waiting && client_buf_.size() == 0) {
    watching = true;
    client_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), ticket](error_code ec) {
      if (ec) return;
      char c;
      auto n = self->client_.is_pipe()
                   ? (self->client_.pipe_closed() ? 0 : 1)
                   : ::recv(self->client_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        self->client_gone_ = true;
        ticket->timer.cancel();
      }
    });
  }
  ticket->timer.expires_at(d.queue_deadline());
  // Granted at once (under enqueue) needs no wait: the grant's cancel, posted to this thread,
  // finds the timer idle. A grant from another thread later cancels this wait.
  if (entered == DispatchQueue::Entered::waiting) co_await ticket->timer.async_wait(nothrow);
  if (watching) {
    error_code ec;
    client_.cancel(ec);
  }
  const auto waited = clock::now() - since;
  rq_.queued_for += waited;
  queue.count_wait(waited);
  leave_on_destroy.armed = false;
  // The slot granted, read after the queue's lock (leave), which set it.
  if (!queue.leave(*ticket)) co_return d.on_wait(QueueWait::granted, ticket->granted, request_read);
  if (client_gone_) {
    queue.count_abandoned();
    co_return d.on_wait(QueueWait::client_gone, {}, request_read);
  }
  queue.count_timeout();
  co_return d.on_wait(QueueWait::timeout, {}, request_read);
}

awaitable<void> DownstreamSession::wait_for_change(clock::time_point deadline) {
  return t_.wait_for_change(deadline);
}

const tcp::endpoint& DownstreamSession::slot_endpoint(balancer::SlotId slot) const {
  return t_.endpoints[slot];
}

awaitable<ExchangeOutcome> DownstreamSession::exchange(balancer::SlotId slot,
                                                                 bool& body_started, bool fresh) {
  auto& shared = t_.shared;
  const auto& cfg = shared.cfg;
  upstream_ = fresh ? t_.pool.fresh(slot) : t_.pool.take(slot);
  auto& c = *upstream_;
  if (!c.reused) {
    phase_ = Phase::connect;
    arm(cfg.timeouts.connect);
    auto [ec] = co_await c.socket.async_connect(t_.endpoints[slot], nothrow);
    if (ec) {
      t_.metrics.upstreams[slot].connect_failures.add();
      if (shared.health.connect_failed(slot)) {
        t_.metrics.upstreams[slot].ejections.add();
        spdlog::warn("upstream {} ejected: connect failed: {}", shared.upstreams[slot].name,
                     expired_ ? "timed out" : ec.message());
      }
      co_return ExchangeOutcome::retry;
    }
    error_code ignored;
    c.socket.set_option(tcp::no_delay(true), ignored);
    if (auto& tls = t_.upstream_tls[slot]; tls.context) {
      c.socket.start_tls(*tls.context, tls.server_name);
      if (auto hec = co_await c.socket.handshake(ssl::stream_base::client)) {
        spdlog::warn("upstream {}: TLS handshake failed: {}", shared.upstreams[slot].name,
                     expired_ ? "timed out" : hec.message());
        co_return expired_ ? ExchangeOutcome::gateway_timeout : ExchangeOutcome::bad_gateway;
      }
    }
  }
  shared.health.connect_succeeded(slot);

  auto sent = co_await send_request(c, body_started);
  if (sent != ExchangeOutcome::ok) co_return sent;

  phase_ = Phase::wait_response;
  arm(cfg.timeouts.upstream_response);
  for (;;) {
    res_.emplace();
    res_->body_limit(boost::none);
    if (head_) res_->skip(true);
    auto [ec, n] = co_await http::async_read_header(c.socket, c.buffer, *res_, nothrow);
    if (ec) {
      if (expired_) co_return ExchangeOutcome::gateway_timeout;
      if (!res_->got_some()) {
        bool replayable = !body_started;
        if (c.reused && replayable) co_return ExchangeOutcome::retry_same;
        if (replayable && is_idempotent(req_->get().method())) co_return ExchangeOutcome::retry;
      }
      co_return ExchangeOutcome::bad_gateway;
    }
    auto code = res_->get().result_int();
    // Interim answers other than 101 are not forwarded: corral sent its own 100 Continue.
    if (code >= 100 && code < 200 && code != 101) continue;
    co_return ExchangeOutcome::ok;
  }
}

awaitable<ExchangeOutcome> DownstreamSession::send_request(UpstreamConnection& c,
                                                                     bool& body_started) {
  const auto& cfg = t_.shared.cfg;
  auto& req = req_->get();
  phase_ = Phase::send;
  arm(cfg.timeouts.idle);
  PooledHead head;
  MessageWriter writer{head.write(req, t_), req.chunked(), /*bodyless=*/false};
  bool sent_any = false;
  for (;;) {
    const char* data = nullptr;
    std::size_t size = 0;
    if (!req_->is_done()) {
      if (rq_.expect_continue && !stream_) {  // a stream's Expect is not passed on
        rq_.expect_continue = false;
        static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(client_, asio::buffer(cont), nothrow);
        if (ec) co_return ExchangeOutcome::abort;
      }
      // A large upload reads in large steps; small bodies keep the small pooled block.
      auto remaining = req_->content_length_remaining();
      const bool small = remaining && *remaining <= read_block_size;
      char* relay = relay_buffer(small);
      if (!small && client_buf_.capacity() < relay_buffer_size)
        client_buf_.reserve(relay_buffer_size);
      req.body().data = relay;
      req.body().size = relay_size_;
      auto [ec, n] = co_await http::async_read_some(client_, client_buf_, *req_, nothrow);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        if (ec == http::error::body_limit) {
          co_await send_error(http::status::payload_too_large, "request body too large", true);
        } else if (!expired_ && ec != asio::error::eof && ec != asio::error::connection_reset &&
                   ec != asio::error::operation_aborted) {
          auto r = rejection_for_parse_error(ec);
          co_await send_error(r.status, r.message, true);
        }
        co_return ExchangeOutcome::client_error;
      }
      data = relay_buf_;
      size = relay_size_ - req.body().size;
      body_started = true;
      arm(cfg.timeouts.idle);
    }
    const bool ends = req_->is_done();
    if (auto buffers = writer.next(data, size, ends); !buffers.empty()) {
      auto [ec, n] = co_await asio::async_write(c.socket, buffers, nothrow);
      if (ec) {
        if (expired_) co_return ExchangeOutcome::gateway_timeout;
        if (!body_started && c.reused && !sent_any) co_return ExchangeOutcome::retry_same;
        co_return body_started ? ExchangeOutcome::bad_gateway : ExchangeOutcome::retry;
      }
      sent_any = true;
      head.release();
    }
    if (ends) co_return ExchangeOutcome::ok;
  }
}

awaitable<bool> DownstreamSession::relay_response(UpstreamConnection& c, bool upgrade) {
  const auto& cfg = t_.shared.cfg;
  auto& res = res_->get();
  bool switching = res.result() == http::status::switching_protocols && upgrade;
  if (res.result() == http::status::switching_protocols && !upgrade) {
    // A 101 to a request that asked for no upgrade (or for h2c, which corral removed): what
    // follows on that connection is not HTTP/1, and none of it may reach the client.
    co_await send_error(http::status::bad_gateway, "upstream switched protocols unasked", true);
    co_return false;
  }
  // The parser's keep_alive also says no to a body that ends at the connection's end.
  bool upstream_reusable = res_->keep_alive() && !switching;
  // The stages' response side (sticky, shared session), in order.
  for (RequestStage* stage : t_.chain->stages()) {
    auto verdict = stage->on_response_header(rq_, res);
    if (verdict == StageVerdict::suspend) verdict = co_await stage->resume_response_header(rq_, res);
    if (verdict == StageVerdict::answer) {
      co_await send_stage_answer();
      co_return false;
    }
  }
  rewrite_response(res, switching);
  rq_.status = res.result_int();
  // A tunnel (WebSocket) is no request in flight: its worker's place goes to the next one
  // before the client can see the 101.
  if (switching) end_dispatch();
  if (stream_) {
    co_await relay_to_stream(c, upstream_reusable);
    co_return false;  // a stream carries one request
  }

  bool keep = rq_.keep_alive && !draining() && !switching && req_->is_done();
  if (!switching) {
    const unsigned client_version = rq_.client_version;
    bool framed = res_->content_length().has_value() || res.chunked() || res_->is_done();
    if (!framed) keep = false;  // body runs to the upstream's close: so must ours
    if (client_version < 11 && res.chunked()) {
      res.chunked(false);  // an HTTP/1.0 client cannot read chunks: stream raw and close
      keep = false;
    }
    if (client_version < 11) {
      res.version(10);
      if (keep) res.set(http::field::connection, "keep-alive");
    } else if (!keep) {
      res.set(http::field::connection, "close");
    }
  }

  phase_ = Phase::relay;
  arm(cfg.timeouts.idle);
  // A body known to fit a 4 KiB block is relayed through one, and the upstream connection's
  // buffer stays small: a 64 KiB buffer for each would stay with every pooled connection.
  const auto length = res_->content_length();
  const bool small = length && *length <= read_block_size;
  const unsigned code = res.result_int();
  const bool bodyless = head_ || switching || code / 100 == 1 || code == 204 || code == 304;
  PooledHead head;
  MessageWriter writer{head.write(res, t_), res.chunked(), bodyless};
  for (;;) {
    const char* data = nullptr;
    std::size_t size = 0;
    if (!res_->is_done()) {
      char* relay = relay_buffer(small);
      // Beast reads no more than the buffer's free capacity: give it room for big bodies.
      if (!small && c.buffer.capacity() < relay_buffer_size)
        c.buffer.reserve(relay_buffer_size);
      res.body().data = relay;
      res.body().size = relay_size_;
      // read_some: relay what has arrived at once (server-sent events, long polls).
      auto [ec, n] = co_await http::async_read_some(c.socket, c.buffer, *res_, nothrow);
      if (ec == http::error::need_buffer) ec = {};
      // The upstream closed mid-body (partial_message, eof) or failed: the client's message
      // cannot be completed honestly.
      if (ec) co_return false;
      data = relay_buf_;
      size = relay_size_ - res.body().size;
      arm(cfg.timeouts.idle);
    }
    const bool ends = res_->is_done();
    if (auto buffers = writer.next(data, size, ends); !buffers.empty()) {
      auto [ec, n] = co_await asio::async_write(client_, buffers, nothrow);
      rq_.bytes_sent += n;
      if (ec) co_return false;
      head.release();
    }
    if (ends) break;
  }
  if (switching) {
    co_await tunnel(c);
    co_return false;
  }
  if (upstream_reusable && res_->is_done() && req_->is_done())
    t_.pool.give_back(std::move(upstream_));
  co_return keep;
}

awaitable<void> DownstreamSession::relay_to_stream(UpstreamConnection& c, bool reusable) {
  const auto& cfg = t_.shared.cfg;
  auto& res = res_->get();
  // Its head straight to the codec: the fields as the upstream's parser holds them.
  const bool ends = res_->is_done();  // HEAD, 204, 304, an empty body: no DATA
  stream_->respond(res.result_int(), res.base(), ends);
  rq_.bytes_sent += head_size(res);  // the access log's header and body, as for HTTP/1.1
  phase_ = Phase::relay;
  arm(cfg.timeouts.idle);
  const auto length = res_->content_length();
  const bool small = length && *length <= read_block_size;
  while (!res_->is_done()) {
    // At most response_queue bytes wait to be framed before more are read from the upstream.
    while (!stream_->has_room())
      if (!co_await stream_->wait_room() || expired_) co_return;
    char* relay = relay_buffer(small);
    if (!small && c.buffer.capacity() < relay_buffer_size) c.buffer.reserve(relay_buffer_size);
    res.body().data = relay;
    res.body().size = relay_size_;
    auto [ec, n] = co_await http::async_read_some(c.socket, c.buffer, *res_, nothrow);
    if (ec == http::error::need_buffer) ec = {};
    // The upstream closed mid-body or failed: the stream is reset (finish) rather than ended.
    if (ec) co_return;
    const std::size_t size = relay_size_ - res.body().size;
    const bool last = res_->is_done();
    if (size || last) stream_->send_body(std::string_view(relay_buf_, size), last);
    rq_.bytes_sent += size;
    arm(cfg.timeouts.idle);
  }
  if (reusable && req_->is_done()) t_.pool.give_back(std::move(upstream_));
}

char* DownstreamSession::relay_buffer(bool small) {
  if (relay_buf_ && (small || relay_size_ == relay_buffer_size)) return relay_buf_;
  give_back_relay();
  if (small) {
    relay_buf_ = static_cast<char*>(t_.blocks.take());
    relay_size_ = read_block_size;
  } else {
    relay_buf_ = static_cast<char*>(t_.buffers.take());
    relay_size_ = relay_buffer_size;
  }
  return relay_buf_;
}

void DownstreamSession::give_back_relay() {
  if (!relay_buf_) return;
  if (relay_size_ == relay_buffer_size) t_.buffers.give_back(relay_buf_);
  else t_.blocks.give_back(relay_buf_);
  relay_buf_ = nullptr;
  relay_size_ = 0;
}

void DownstreamSession::end_dispatch() {
  if (!dispatched_slot_) return;
  t_.shared.queue.end(*dispatched_slot_);
  dispatched_slot_.reset();
}

awaitable<void> DownstreamSession::tunnel(UpstreamConnection& c) {
  using namespace asio::experimental::awaitable_operators;
  phase_ = Phase::tunnel;
  arm(t_.shared.cfg.timeouts.idle);
  // Bytes that arrived behind the headers belong to the tunnel.
  if (client_buf_.size() > 0) {
    auto [ec, n] = co_await asio::async_write(c.socket, client_buf_.data(), nothrow);
    if (ec) co_return;
    client_buf_.consume(n);
  }
  if (c.buffer.size() > 0) {
    auto [ec, n] = co_await asio::async_write(client_, c.buffer.data(), nothrow);
    if (ec) co_return;
    c.buffer.consume(n);
  }
  char* down_buf = relay_buffer(false);
  char* up_buf = static_cast<char*>(t_.buffers.take());
  co_await (pump(client_, c.socket, down_buf) && pump(c.socket, client_, up_buf));
  t_.buffers.give_back(up_buf);
}

template <typename From, typename To>
awaitable<void> DownstreamSession::pump(From& from, To& to, char* buf) {
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf, relay_buffer_size), nothrow);
    if (ec) {
      error_code ignored;
      if (ec == asio::error::eof) to.shutdown(tcp::socket::shutdown_send, ignored);
      else cancel_io();
      co_return;
    }
    arm(t_.shared.cfg.timeouts.idle);
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf, n), nothrow);
    if (wec) {
      cancel_io();
      co_return;
    }
  }
}

awaitable<void> DownstreamSession::send_error(http::status status, std::string_view message,
                                              bool close, std::string_view extra_headers) {
  rq_.status = static_cast<unsigned>(status);
  if (close) rq_.keep_alive = false;
  bool keep = rq_.keep_alive && !draining();
  std::array<char, 512> buf;
  auto r = fmt::format_to_n(buf.data(), buf.size(),
                            "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            "Content-Length: {}\r\nX-Request-Id: {}\r\n{}{}\r\n{}\n",
                            rq_.status, http::obsolete_reason(status), message.size() + 1,
                            rq_.request_id, extra_headers, keep ? "" : "Connection: close\r\n",
                            message);
  if (rq_.status >= 400 && rq_.status < 500) t_.metrics.bad_requests.add();
  if (rq_.status >= 500) {
    spdlog::warn("{} {} rid={}: {}", rq_.status, rq_.upstream_name.empty() ? "-" : rq_.upstream_name,
                 rq_.request_id, message);
  }
  arm(std::chrono::seconds(5));
  if (stream_) {
    // The same answer as HEADERS and DATA: its fields in place in the text just written.
    std::array<h2::FieldView, 8> fields;
    std::size_t nfields = 0;
    std::string_view text(buf.data(), r.size);
    std::string_view body;
    text.remove_prefix(text.find("\r\n") + 2);  // the status line
    for (;;) {
      const auto eol = text.find("\r\n");
      if (eol == 0 || eol == std::string_view::npos) {
        body = eol == 0 ? text.substr(2) : std::string_view{};
        break;
      }
      const std::string_view line = text.substr(0, eol);
      text.remove_prefix(eol + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos || nfields == fields.size()) continue;
      std::string_view name = line.substr(0, colon);
      if (beast::iequals(name, "connection")) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      fields[nfields++] = {name, value};
    }
    if (head_) body = {};  // an answer to HEAD has no DATA, only its Content-Length
    stream_->respond(rq_.status, std::span<const h2::FieldView>(fields.data(), nfields), body.empty());
    if (!body.empty()) stream_->send_body(body, true);
    rq_.bytes_sent += r.size;
    co_return;
  }
  auto [ec, n] = co_await asio::async_write(client_, asio::buffer(buf.data(), r.size), nothrow);
  rq_.bytes_sent += n;
}

}  // namespace corral::proxy
