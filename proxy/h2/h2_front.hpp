#pragma once
// One HTTP/2 client connection: frames in and out through the codec (h2_connection), each
// stream handed to the HTTP/1.1 request path as a request on its own in-memory pipe
// (stream_pipe), its HTTP/1.1 response read back from the pipe and sent as HEADERS and DATA.
// The request path (guard, rewrite, sticky, sessions, queue, retries, metrics, access log) is
// the same code for both protocols; upstreams are spoken to in pooled HTTP/1.1.
//
// Memory per stream is bounded: the receive window (Limits::stream_window) bounds the request
// body the codec takes before the pipe accepts it, the pipe holds at most its capacity each
// way, and response bytes are read from the pipe only while fewer than `response_queue` wait
// to be framed.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "proxy/drainable.hpp"
#include "proxy/h2/h2_connection.hpp"
#include "proxy/h2/stream_pipe.hpp"

namespace corral::proxy::h2 {

// Starts the HTTP/1.1 request path on `end` (the far end of a stream's pipe) for a stream of
// the connection from `peer`.
using StartStream = std::function<void(PipeEnd end)>;

template <typename Stream>
class Front : public std::enable_shared_from_this<Front<Stream>>,
              public Drainable,
              Connection::Events {
 public:
  using clock = std::chrono::steady_clock;

  Front(Stream stream, const Limits& limits, StartStream start, clock::duration idle_timeout)
      : stream_(std::forward<Stream>(stream)),
        codec_(*this, limits),
        start_(std::move(start)),
        idle_timeout_(idle_timeout),
        wake_writer_(stream_.get_executor()),
        idle_timer_(stream_.get_executor()),
        write_timer_(stream_.get_executor()),
        writer_done_wait_(stream_.get_executor()) {}

  // Serves the connection until it ends; `already_read`: bytes read from it before (the
  // connection preface, when the listener looked for it).
  boost::asio::awaitable<void> run(std::string already_read = {}) {
    namespace asio = boost::asio;
    auto self = this->shared_from_this();
    asio::co_spawn(stream_.get_executor(), write_loop(self), asio::detached);
    arm_idle();
    bool ok = already_read.empty() || codec_.receive(already_read);
    kick_writer();
    std::array<char, 16 * 1024> buf;
    while (ok && !closing_) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf), nothrow());
      if (ec) break;
      ok = codec_.receive(std::string_view(buf.data(), n));
      kick_writer();
    }
    // The client went away or broke the protocol: what is queued (a GOAWAY) goes out for a
    // moment, then the connection closes; the stream is not touched once run() returns.
    reading_done_ = true;
    kick_writer();
    if (!writer_done_) {
      writer_done_wait_.expires_after(std::chrono::seconds(1));
      co_await writer_done_wait_.async_wait(nothrow());
    }
    close();
    while (!writer_done_) {
      writer_done_wait_.expires_at(clock::time_point::max());
      co_await writer_done_wait_.async_wait(nothrow());
    }
    auto left = std::move(exchanges_);
    exchanges_.clear();
    for (auto& [id, x] : left) {
      x->closed = true;
      x->pipe.reset();
      x->wake_writer.cancel();
      x->wake_reader.cancel();
    }
  }

  ~Front() {
    if (on_destroy) on_destroy(*this);
  }

  // Called as the connection is destroyed (e.g. to leave the proxy thread's list).
  std::function<void(Drainable&)> on_destroy;

  // No new streams (GOAWAY); those in progress finish, then the connection closes.
  void drain() override {
    if (draining_) return;
    draining_ = true;
    codec_.go_away();
    kick_writer();
  }

  std::size_t open_streams() const { return exchanges_.size(); }

 private:
  static constexpr std::size_t response_queue = 64 * 1024;
  static auto nothrow() { return boost::asio::as_tuple(boost::asio::use_awaitable); }

  // One stream on its way through the request path.
  struct Exchange {
    explicit Exchange(boost::asio::any_io_executor ex) : wake_writer(ex), wake_reader(ex) {}
    std::int32_t id = 0;
    PipeEnd pipe;                // our end: we write the request, read the response
    std::string to_app;          // request bytes not yet in the pipe
    std::size_t body_in_to_app = 0;  // of which body bytes still to be consumed in the codec
    bool chunked = false;
    bool request_done = false;   // the whole request is in to_app
    bool head = false;           // HEAD: the response has no body
    bool closed = false;         // the codec closed the stream
    boost::asio::steady_timer wake_writer;  // cancel() wakes the pipe writer
    boost::asio::steady_timer wake_reader;  // cancel() wakes the pipe reader (room to frame)
  };

  // --- the codec's events ---------------------------------------------------------------

  void on_request(std::int32_t id, RequestHead&& head, bool end_stream) override {
    namespace asio = boost::asio;
    if (draining_) {
      codec_.reset(id, 7 /* REFUSED_STREAM */);
      return;
    }
    auto x = std::make_shared<Exchange>(stream_.get_executor());
    x->id = id;
    x->head = head.method == "HEAD";
    x->to_app = to_http1_request(head, !end_stream, &x->chunked);
    x->request_done = end_stream;
    auto [ours, theirs] = make_pipe(stream_.get_executor());
    x->pipe = std::move(ours);
    for (auto* t : {&x->wake_writer, &x->wake_reader}) t->expires_at(clock::time_point::max());
    exchanges_.emplace(id, x);
    idle_timer_.cancel();
    auto self = this->shared_from_this();
    // A request without a body fits the pipe at once: no writer needed.
    if (x->request_done) x->to_app.erase(0, x->pipe.write_now(x->to_app));
    if (!x->request_done || !x->to_app.empty())
      asio::co_spawn(stream_.get_executor(), pipe_writer(self, x), asio::detached);
    asio::co_spawn(stream_.get_executor(), pipe_reader(self, x), asio::detached);
    start_(std::move(theirs));
  }

  void on_body(std::int32_t id, std::string_view data, bool end_stream) override {
    auto it = exchanges_.find(id);
    if (it == exchanges_.end()) {
      codec_.consume(id, data.size());
      return;
    }
    auto& x = *it->second;
    if (x.chunked) append_chunk(x.to_app, data);
    else x.to_app.append(data);
    x.body_in_to_app += data.size();
    if (end_stream) {
      if (x.chunked) x.to_app.append(last_chunk);
      x.request_done = true;
    }
    x.wake_writer.cancel();
  }

  void on_closed(std::int32_t id, std::uint32_t error_code) override {
    auto it = exchanges_.find(id);
    if (it == exchanges_.end()) return;
    auto x = it->second;
    exchanges_.erase(it);
    x->closed = true;
    // The client reset the stream (or the connection ended) before the answer was complete:
    // the request path sees its client go away.
    if (error_code != 0) x->pipe.reset();
    else x->pipe.shutdown_send();
    x->wake_writer.cancel();
    x->wake_reader.cancel();
    if (exchanges_.empty()) arm_idle();
  }

  void on_sent(std::int32_t id) override {
    if (auto it = exchanges_.find(id); it != exchanges_.end()) it->second->wake_reader.cancel();
  }

  // --- per stream -----------------------------------------------------------------------

  // The request's bytes into the pipe, as the codec delivers them; the stream's receive
  // window re-opens by what the pipe took.
  static boost::asio::awaitable<void> pipe_writer(std::shared_ptr<Front> self,
                                                  std::shared_ptr<Exchange> x) {
    namespace asio = boost::asio;
    std::string sending;
    for (;;) {
      if (x->closed) co_return;
      if (x->to_app.empty()) {
        if (x->request_done) co_return;
        x->wake_writer.expires_at(clock::time_point::max());
        co_await x->wake_writer.async_wait(nothrow());
        continue;
      }
      sending.swap(x->to_app);
      x->to_app.clear();
      std::size_t body = x->body_in_to_app;
      x->body_in_to_app = 0;
      auto [ec, n] = co_await asio::async_write(x->pipe, asio::buffer(sending), nothrow());
      if (ec) co_return;
      if (!x->closed) {
        self->codec_.consume(x->id, body);
        self->kick_writer();
      }
      sending.clear();
    }
  }

  // The HTTP/1.1 response from the pipe, framed as HEADERS and DATA.
  static boost::asio::awaitable<void> pipe_reader(std::shared_ptr<Front> self,
                                                  std::shared_ptr<Exchange> x) {
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buf;
    std::array<char, 16 * 1024> body;
    std::optional<http::response_parser<http::buffer_body>> p;
    for (;;) {  // interim (1xx) answers are not relayed
      p.emplace();
      p->body_limit(boost::none);
      p->header_limit(64 * 1024);
      if (x->head) p->skip(true);
      auto [ec, n] = co_await http::async_read_header(x->pipe, buf, *p, nothrow());
      if (ec) {
        if (!x->closed) self->codec_.reset(x->id, 2 /* INTERNAL_ERROR */);
        self->kick_writer();
        co_return;
      }
      if (p->get().result_int() >= 200) break;
    }
    auto& res = p->get();
    const bool no_body = p->is_done();
    if (x->closed) co_return;
    self->codec_.respond(x->id, res.result_int(), to_h2_response(res.base()), no_body);
    self->kick_writer();
    while (!p->is_done()) {
      while (!x->closed && self->codec_.queued(x->id) >= response_queue) {
        x->wake_reader.expires_at(clock::time_point::max());
        co_await x->wake_reader.async_wait(nothrow());
      }
      if (x->closed) co_return;
      res.body().data = body.data();
      res.body().size = body.size();
      auto [ec, n] = co_await http::async_read_some(x->pipe, buf, *p, nothrow());
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        if (!x->closed) self->codec_.reset(x->id, 2 /* INTERNAL_ERROR */);
        self->kick_writer();
        co_return;
      }
      if (x->closed) co_return;
      std::size_t got = body.size() - res.body().size;
      self->codec_.send_body(x->id, std::string_view(body.data(), got), p->is_done());
      self->kick_writer();
    }
  }

  // --- the connection's writes ----------------------------------------------------------

  void kick_writer() { wake_writer_.cancel(); }

  static boost::asio::awaitable<void> write_loop(std::shared_ptr<Front> self) {
    namespace asio = boost::asio;
    for (;;) {
      auto out = self->codec_.output();
      if (!out.empty()) {
        // A client that reads nothing for the idle timeout loses the connection.
        self->write_timer_.expires_after(self->idle_timeout_);
        self->write_timer_.async_wait([w = self->weak_from_this()](boost::system::error_code ec) {
          if (auto s = w.lock(); s && !ec) s->close();
        });
        auto [ec, n] = co_await asio::async_write(self->stream_, asio::buffer(out), nothrow());
        self->write_timer_.cancel();
        if (ec) break;
        self->codec_.sent(n);
        continue;
      }
      if (self->codec_.finished() || self->reading_done_ ||
          (self->draining_ && self->exchanges_.empty()))
        break;
      self->wake_writer_.expires_at(clock::time_point::max());
      co_await self->wake_writer_.async_wait(nothrow());
    }
    self->close();
    self->writer_done_ = true;
    self->writer_done_wait_.cancel();
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    idle_timer_.cancel();
    write_timer_.cancel();
    boost::system::error_code ec;
    stream_.lowest_layer().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
  }

  // A connection without streams for the idle timeout gets GOAWAY and closes.
  void arm_idle() {
    if (closing_) return;
    idle_timer_.expires_after(idle_timeout_);
    idle_timer_.async_wait([w = this->weak_from_this()](boost::system::error_code ec) {
      auto self = w.lock();
      if (ec || !self || !self->exchanges_.empty()) return;
      self->drain();
    });
  }

  Stream stream_;
  Connection codec_;
  StartStream start_;
  clock::duration idle_timeout_;
  boost::asio::steady_timer wake_writer_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer write_timer_;
  boost::asio::steady_timer writer_done_wait_;
  bool writer_done_ = false;
  std::unordered_map<std::int32_t, std::shared_ptr<Exchange>> exchanges_;
  bool draining_ = false;
  bool reading_done_ = false;
  bool closing_ = false;
};

}  // namespace corral::proxy::h2
