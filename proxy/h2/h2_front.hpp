#pragma once
// One HTTP/2 client connection: frames in and out through the codec (h2_connection), each
// stream handed to the HTTP/1.1 request path as a request on its own in-memory pipe
// (stream_pipe); the response comes back straight as HEADERS and DATA (stream_responder).
// The request path (guard, rewrite, sticky, sessions, queue, retries, metrics, access log) is
// the same code for both protocols; upstreams are spoken to in pooled HTTP/1.1.
//
// Memory per stream is bounded: the receive window (Limits::stream_window) bounds the request
// body the codec takes before the pipe accepts it, the pipe holds at most its capacity each
// way, and the session relays more response bytes only while fewer than `response_queue` wait
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
#include <boost/beast/http/error.hpp>

#include "proxy/drainable.hpp"
#include "proxy/h2/h2_connection.hpp"
#include "proxy/h2/stream_pipe.hpp"
#include "proxy/h2/stream_responder.hpp"
#include "proxy/h2/wakeup.hpp"

namespace corral::proxy::h2 {

// Starts the request path on `end` (the far end of a stream's pipe) for a stream whose request
// head is `head` (HTTP/1.1 bytes, to be read before what the pipe brings: the body); the
// response goes to `responder`.
using StartStream = std::function<void(PipeEnd end, std::string_view head,
                                       std::shared_ptr<StreamResponder> responder)>;

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
      x->wake_writer.notify();
      x->wake_reader.notify();
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

  // One stream on its way through the request path: the request's body goes to its session
  // over the pipe, the session's response comes straight to the codec (StreamResponder).
  struct Exchange final : StreamResponder {
    Exchange(Front& f, boost::asio::any_io_executor ex)
        : front(f), wake_writer(ex), wake_reader(ex) {}
    Front& front;  // touched only while the stream is open: run() closes them all on its way out
    std::int32_t id = 0;
    PipeEnd pipe;                // our end: we write the request body
    std::string to_app;          // request bytes not yet in the pipe
    std::size_t body_in_to_app = 0;  // of which body bytes still to be consumed in the codec
    bool chunked = false;
    bool request_done = false;   // the whole request is in to_app
    bool responded = false;      // the response is complete (its last frame queued)
    bool closed = false;         // the codec closed the stream
    Wakeup wake_writer;  // wakes the pipe writer (request bytes to pass on)
    Wakeup wake_reader;  // wakes the session waiting for room to frame

    using StreamResponder::respond;
    void respond(unsigned status, std::span<const FieldView> fields, bool end_stream) override {
      if (closed) return;
      front.codec_.respond_in_place(id, status, fields, end_stream);
      responded = end_stream;
      front.kick_writer();
    }
    void send_body(std::string_view data, bool last) override {
      if (closed) return;
      front.codec_.send_body(id, data, last);
      responded = last;
      front.kick_writer();
    }
    bool open() const override { return !closed; }
    bool has_room() const override {
      return !closed && front.codec_.queued(id) < response_queue;
    }
    boost::asio::awaitable<bool> wait_room() override {
      if (closed) co_return false;
      co_await wake_reader.async_wait(nothrow());
      co_return !closed;
    }
    void cancel() override { wake_reader.notify(); }
    void finish() override {
      if (closed || responded) return;
      responded = true;
      front.codec_.reset(id, 2 /* INTERNAL_ERROR */);
      front.kick_writer();
    }
    std::vector<FieldView>& scratch() override { return front.head_scratch_; }
  };

  // --- the codec's events ---------------------------------------------------------------

  void on_request(std::int32_t id, RequestHead&& head, bool end_stream) override {
    namespace asio = boost::asio;
    if (draining_) {
      codec_.reset(id, 7 /* REFUSED_STREAM */);
      return;
    }
    auto x = std::make_shared<Exchange>(*this, stream_.get_executor());
    x->id = id;
    // The head goes to the stream's session as bytes already read; only a body takes the pipe.
    request_head_.clear();
    to_http1_request(head, !end_stream, &x->chunked, request_head_);
    x->request_done = end_stream;
    auto [ours, theirs] = make_pipe(stream_.get_executor());
    x->pipe = std::move(ours);
    exchanges_.emplace(id, x);
    idle_timer_.cancel();
    auto self = this->shared_from_this();
    if (!x->request_done)
      asio::co_spawn(stream_.get_executor(), pipe_writer(self, x), asio::detached);
    start_(std::move(theirs), request_head_, std::move(x));
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
    x.wake_writer.notify();
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
    x->wake_writer.notify();
    x->wake_reader.notify();
    if (exchanges_.empty()) arm_idle();
  }

  void on_sent(std::int32_t id) override {
    if (auto it = exchanges_.find(id); it != exchanges_.end()) it->second->wake_reader.notify();
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

  // --- the connection's writes ----------------------------------------------------------

  void kick_writer() { wake_writer_.notify(); }

  static boost::asio::awaitable<void> write_loop(std::shared_ptr<Front> self) {
    namespace asio = boost::asio;
    for (;;) {
      auto out = self->codec_.output();
      if (!out.empty()) {
        // A client that reads nothing for the idle timeout loses the connection.
        self->write_deadline_ = clock::now() + self->idle_timeout_;
        self->writing_ = true;
        self->arm_write_timer();
        auto [ec, n] = co_await asio::async_write(self->stream_, asio::buffer(out), nothrow());
        self->writing_ = false;
        if (ec) break;
        self->codec_.sent(n);
        continue;
      }
      if (self->codec_.finished() || self->reading_done_ ||
          (self->draining_ && self->exchanges_.empty()))
        break;
      co_await self->wake_writer_.async_wait(nothrow());
    }
    self->close();
    self->writer_done_ = true;
    self->writer_done_wait_.cancel();
  }

  // The write's deadline is checked when the timer fires, and the timer moved on only then:
  // a write costs no timer operation.
  void arm_write_timer() {
    if (write_timer_armed_ || closing_) return;
    write_timer_armed_ = true;
    write_timer_.expires_at(write_deadline_);
    write_timer_.async_wait([w = this->weak_from_this()](boost::system::error_code ec) {
      auto self = w.lock();
      if (!self) return;
      self->write_timer_armed_ = false;
      if (ec || !self->writing_) return;
      if (clock::now() >= self->write_deadline_) self->close();
      else self->arm_write_timer();
    });
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
  Wakeup wake_writer_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer write_timer_;
  clock::time_point write_deadline_{};
  bool writing_ = false;
  bool write_timer_armed_ = false;
  boost::asio::steady_timer writer_done_wait_;
  bool writer_done_ = false;
  std::unordered_map<std::int32_t, std::shared_ptr<Exchange>> exchanges_;
  std::vector<FieldView> head_scratch_;  // a response head's fields, as they go to the codec
  std::string request_head_;  // the head being handed to a stream's session
  bool draining_ = false;
  bool reading_done_ = false;
  bool closing_ = false;
};

}  // namespace corral::proxy::h2
