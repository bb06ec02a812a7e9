#pragma once
// How a stream's session answers its client: straight on the HTTP/2 connection, the response
// head's fields handed to the codec as a HEADERS frame and body bytes queued as DATA, without
// an HTTP/1.1 message in between. The front end (h2_front) implements it for each stream; the
// session holds it for its one request. All calls on the connection's thread.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "proxy/h2/h1_translation.hpp"

namespace corral::proxy::h2 {

class StreamResponder {
 public:
  virtual ~StreamResponder() = default;

  // The response head from a parsed HTTP/1.1 head's fields (Beast's, any allocator), viewed
  // in place, connection-specific ones left out. `end_stream`: no body follows.
  template <class Fields>
  void respond(unsigned status, const Fields& fields, bool end_stream) {
    if (!open()) return;  // the scratch is the connection's, which may be gone
    auto& views = scratch();
    response_field_views(fields, views);
    respond(status, std::span<const FieldView>(views), end_stream);
  }
  // The same from fields in place (names in any case), none connection-specific.
  virtual void respond(unsigned status, std::span<const FieldView> fields, bool end_stream) = 0;
  // Body bytes, queued on the stream (copied); `last` ends the stream.
  virtual void send_body(std::string_view data, bool last) = 0;
  // The stream is open: the client has not reset it and the connection goes on. Calls on a
  // closed stream do nothing.
  virtual bool open() const = 0;
  // The stream takes more body now: fewer bytes than its bound wait to be framed, and it is
  // still open.
  virtual bool has_room() const = 0;
  // Waits until queued bytes went out or the stream closed; false once it is closed (the
  // client reset it, or the connection ended).
  virtual boost::asio::awaitable<bool> wait_room() = 0;
  // Ends a wait_room early (the session's deadline passed).
  virtual void cancel() = 0;
  // The session is done with the stream: a response not complete by now resets it.
  virtual void finish() = 0;

 protected:
  // Where a head's field views are gathered: one per connection serves all its streams, since
  // a head is handed to the codec (which copies it) at once. Only while the stream is open.
  virtual std::vector<FieldView>& scratch() = 0;
};

}  // namespace corral::proxy::h2
