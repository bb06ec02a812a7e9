#pragma once
// The HTTP/2 side of one client connection, as bytes in and bytes out over nghttp2's server
// session: no I/O of its own. It turns frames into request events for its owner and the
// owner's responses into frames, with the limits a public port needs:
// - concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS, enforced by nghttp2: REFUSED_STREAM);
// - header list size (SETTINGS_MAX_HEADER_LIST_SIZE; a larger one is answered 431 on its
//   stream, and its fields are not kept);
// - CONTINUATION frames per header block, and stream resets per connection (a token bucket:
//   rapid-reset floods end the connection with GOAWAY ENHANCE_YOUR_CALM);
// - flow control: a stream's receive window is re-opened only as its owner consumes the body,
//   so a slow upstream bounds what a stream buffers; response bodies are queued per stream up
//   to what the owner puts in, and the owner waits for `queued()` to fall.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/h2/h1_translation.hpp"

struct nghttp2_session;

namespace corral::proxy::h2 {

struct Limits {
  std::uint32_t max_concurrent_streams = 100;
  std::uint32_t max_header_list_bytes = 16 * 1024;
  std::uint32_t stream_window = 256 * 1024;     // a stream's receive window (bytes)
  std::uint32_t connection_window = 1024 * 1024;
  std::uint64_t reset_burst = 200;  // stream resets a connection may send at once...
  std::uint64_t reset_rate = 33;    // ...and per second after that
  std::size_t max_continuations = 8;
};

class Connection {
 public:
  struct Events {
    virtual ~Events() = default;
    // A request's header block is complete; `end_stream`: no body follows.
    virtual void on_request(std::int32_t stream, RequestHead&& head, bool end_stream) = 0;
    // Body bytes of a stream (call `consume` once they are passed on); `end_stream` with the
    // last (possibly empty) piece.
    virtual void on_body(std::int32_t stream, std::string_view data, bool end_stream) = 0;
    // The stream is closed: its response was sent (`error_code` 0 after a complete answer), or
    // the client reset it, or the connection ended. No event for it follows.
    virtual void on_closed(std::int32_t stream, std::uint32_t error_code) = 0;
    // Queued response bytes of `stream` went out to the output buffer.
    virtual void on_sent(std::int32_t stream) {}
  };

  Connection(Events& events, const Limits& limits);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Feeds bytes read from the client. False: the connection is over (a protocol error or a
  // flood); send what `output()` still has, then close.
  bool receive(std::string_view bytes);
  // Everything nghttp2 has to send now, appended to the connection's output buffer; the caller
  // writes it and calls `sent(n)`.
  std::string_view output();
  void sent(std::size_t n);

  // A response head; `end_stream` when it has no body. Later body pieces with `send_body`.
  void respond(std::int32_t stream, unsigned status, const std::vector<Field>& fields,
               bool end_stream);
  // The same from fields in place (names in any case: nghttp2 lower-cases its copy).
  void respond_in_place(std::int32_t stream, unsigned status,
                        std::span<const FieldView> fields, bool end_stream);
  void send_body(std::int32_t stream, std::string_view data, bool last);
  // Response bytes of `stream` not yet framed (for the owner's backpressure).
  std::size_t queued(std::int32_t stream) const;
  // Ends a stream with RST_STREAM (e.g. its upstream failed after the head went out).
  void reset(std::int32_t stream, std::uint32_t error_code);
  // Re-opens `n` bytes of `stream`'s receive window.
  void consume(std::int32_t stream, std::size_t n);
  // GOAWAY: no new streams; those in progress finish.
  void go_away();

  // Nothing more to read or write: the connection can close.
  bool finished() const;
  std::size_t open_streams() const { return streams_.size(); }

 private:
  struct Stream;
  friend struct Callbacks;  // nghttp2's callbacks (h2_connection.cpp)

  Events& events_;
  Limits limits_;
  nghttp2_session* session_ = nullptr;
  std::string out_;
  std::size_t out_sent_ = 0;
  std::unordered_map<std::int32_t, std::unique_ptr<Stream>> streams_;
  struct HeaderList;  // a response head's nghttp2 list, kept for the next one
  std::unique_ptr<HeaderList> nva_;
};

}  // namespace corral::proxy::h2
