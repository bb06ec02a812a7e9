#pragma once
// An in-memory, bounded byte stream with two ends, on one thread: how an HTTP/2 stream reaches
// the HTTP/1.1 request path without a socket. Each end is an Asio AsyncReadStream and
// AsyncWriteStream (Beast reads and writes it as it does a socket); writes wait while the other
// side has `capacity` bytes unread, so a stream's memory is bounded. Operations complete
// through the end's executor, never inline, and honour per-operation cancellation.
#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

namespace corral::proxy::h2 {

namespace detail {

using Handler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
// Held in an optional: Boost 1.81's any_completion_handler move-assignment copies itself into
// an endless recursion; construction and destruction are sound.
using Waiter = std::optional<Handler>;
// A read's or write's first buffers (up to 8, what Beast's serializer gathers): an operation
// that moves "some" bytes may leave the rest for the next one, so none needs the heap.
template <typename B>
struct BufferList {
  std::array<B, 8> items{};
  std::size_t count = 0;
  const B* begin() const { return items.data(); }
  const B* end() const { return items.data() + count; }
  bool empty() const { return count == 0; }
};
using MutableBuffers = BufferList<boost::asio::mutable_buffer>;
using ConstBuffers = BufferList<boost::asio::const_buffer>;

// One direction: bytes written by one end, read by the other.
struct Lane {
  std::string bytes;
  std::size_t taken = 0;
  bool closed = false;  // the writer is done: reads end with eof once empty
  boost::system::error_code reset;  // set: both ends' operations fail with it
  Waiter reader;
  bool reader_peeks = false;  // the reader waits for bytes without taking them...
  std::size_t peek_beyond = 0;  // ...until more than this many are unread
  detail::MutableBuffers read_to;
  Waiter writer;
  detail::ConstBuffers write_from;
  std::size_t unread() const { return bytes.size() - taken; }
};

struct PipeState {
  explicit PipeState(std::size_t cap) : capacity(cap) {}
  std::size_t capacity;
  Lane lanes[2];  // lanes[i]: written by end i
  boost::asio::any_io_executor executor;
};

}  // namespace detail

class PipeEnd {
 public:
  using executor_type = boost::asio::any_io_executor;

  PipeEnd() = default;
  PipeEnd(std::shared_ptr<detail::PipeState> s, int side) : s_(std::move(s)), side_(side) {}

  executor_type get_executor() const { return s_->executor; }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](detail::Handler h, detail::MutableBuffers to) {
          start_read(std::move(h), std::move(to));
        },
        token, first_buffers<boost::asio::mutable_buffer>(buffers));
  }

  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](detail::Handler h, detail::ConstBuffers from) {
          start_write(std::move(h), std::move(from));
        },
        token, first_buffers<boost::asio::const_buffer>(buffers));
  }

  // Completes (with no error) once this end has more than `beyond` bytes to read or the other
  // end finished writing; with the reset's error after a reset. Reads nothing.
  template <typename Token>
  auto async_wait_readable(Token&& token) {
    return async_wait_readable(0, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_wait_readable(std::size_t beyond, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this, beyond](detail::Handler h) { start_wait(std::move(h), beyond); }, token);
  }

  // The bytes the other end wrote that this end has not read, in place (valid until the next
  // operation on the pipe); `consume` reads them without a copy.
  std::string_view peek() const;
  void consume(std::size_t n);
  // The most a direction holds unread.
  std::size_t capacity() const { return s_ ? s_->capacity : 0; }

  // Writes what fits now without waiting (none while a write waits); returns how much.
  std::size_t write_now(std::string_view bytes);

  // What the other end wrote and this end has not read (without waiting).
  std::size_t available() const { return s_ ? in().unread() : 0; }
  // The other end finished writing (eof after what is left), or the pipe was reset.
  bool peer_closed() const { return !s_ || in().closed || bool(in().reset); }
  // The pipe was reset (peer_closed() is true as well).
  bool was_reset() const { return s_ && bool(in().reset); }
  // This end writes no more: the other end reads eof once it has read the rest.
  void shutdown_send();
  // Both directions fail now with `ec` (e.g. the client reset the stream).
  void reset(boost::system::error_code ec = boost::asio::error::connection_reset);
  // This end's waiting operations complete with operation_aborted.
  void cancel();
  bool is_open() const { return s_ != nullptr; }

 private:
  template <typename B, typename Seq>
  static detail::BufferList<B> first_buffers(const Seq& seq) {
    detail::BufferList<B> v;
    for (auto it = boost::asio::buffer_sequence_begin(seq);
         it != boost::asio::buffer_sequence_end(seq) && v.count < v.items.size(); ++it)
      if (B b(*it); b.size()) v.items[v.count++] = b;
    return v;
  }
  detail::Lane& in() const { return s_->lanes[1 - side_]; }
  detail::Lane& out() const { return s_->lanes[side_]; }
  void start_read(detail::Handler h, detail::MutableBuffers to);
  void start_write(detail::Handler h, detail::ConstBuffers from);
  void start_wait(detail::Handler h, std::size_t beyond);
  void wait_for_bytes(detail::Handler h);

  std::shared_ptr<detail::PipeState> s_;
  int side_ = 0;
};

// A pipe of two connected ends on `executor`, each direction holding at most `capacity`
// unread bytes.
std::pair<PipeEnd, PipeEnd> make_pipe(boost::asio::any_io_executor executor,
                                      std::size_t capacity = 64 * 1024);

}  // namespace corral::proxy::h2
