#pragma once
// How corral puts a relayed HTTP/1 message on the wire: the head written by hand into one
// contiguous buffer (start line, the fields as they stand after the rewrite, the blank line),
// then the body as it arrives, framed in chunks when the message is chunked, each step one
// gathered write. Beast's serializer did the same through layers of buffer views that cost a
// quarter of a request's instructions.
#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "proxy/asio.hpp"
#include "proxy/header_fields.hpp"

namespace corral::proxy {

// The bytes the head of `h` takes on the wire.
std::size_t head_size(const RequestHeader& h);
std::size_t head_size(const ResponseHeader& h);
// Writes the head of `h` at `out`, which has room for head_size(h) bytes; returns its end.
char* write_head(const RequestHeader& h, char* out);
char* write_head(const ResponseHeader& h, char* out);

// Frames one message: its head once, then each body piece, each call the buffers of one write.
class MessageWriter {
 public:
  // `chunked`: the body goes out in chunks; `bodyless`: no body byte goes out at all (the answer
  // to HEAD, 1xx, 204, 304), whatever the head says.
  MessageWriter(std::string_view head, bool chunked, bool bodyless)
      : head_(head), chunked_(chunked && !bodyless), bodyless_(bodyless) {}

  // The buffers for the next piece of the body (`size` bytes at `data`, none at the end);
  // `last`: the body ends with it. Empty when there is nothing to write.
  std::span<const asio::const_buffer> next(const char* data, std::size_t size, bool last);
  bool head_sent() const { return head_sent_; }

 private:
  std::array<asio::const_buffer, 5> buffers_;
  char size_line_[20];  // a chunk's size in hex and its CRLF
  std::string_view head_;
  bool chunked_;
  bool bodyless_;
  bool head_sent_ = false;
};

}  // namespace corral::proxy
