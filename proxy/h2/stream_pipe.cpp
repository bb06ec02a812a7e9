#include "proxy/h2/stream_pipe.hpp"

#include <algorithm>
#include <cstring>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/post.hpp>

namespace corral::proxy::h2 {

namespace asio = boost::asio;
using boost::system::error_code;
using detail::Handler;
using detail::Waiter;
using detail::Lane;
using detail::PipeState;

namespace {

void complete(PipeState& s, Handler h, error_code ec, std::size_t n);

// Completes the handler `w` holds, if any.
void complete(PipeState& s, Waiter& w, error_code ec, std::size_t n) {
  if (!w) return;
  Handler h(std::move(*w));
  w.reset();
  complete(s, std::move(h), ec, n);
}

void complete(PipeState& s, Handler h, error_code ec, std::size_t n) {
  auto slot = asio::get_associated_cancellation_slot(h);
  if (slot.is_connected()) slot.clear();
  asio::post(s.executor, [h = std::move(h), ec, n]() mutable { std::move(h)(ec, n); });
}

// Copies what `lane` holds into the waiting reader's buffers.
std::size_t fill(Lane& lane, const detail::MutableBuffers& to) {
  std::size_t n = 0;
  for (auto b : to) {
    std::size_t k = std::min(b.size(), lane.unread());
    std::memcpy(b.data(), lane.bytes.data() + lane.taken, k);
    lane.taken += k;
    n += k;
    if (!lane.unread()) break;
  }
  if (!lane.unread()) {
    lane.bytes.clear();
    lane.taken = 0;
  }
  return n;
}

std::size_t take_in(Lane& lane, std::size_t capacity, const detail::ConstBuffers& from) {
  std::size_t room = capacity > lane.unread() ? capacity - lane.unread() : 0;
  std::size_t n = 0;
  for (auto b : from) {
    std::size_t k = std::min(b.size(), room - n);
    lane.bytes.append(static_cast<const char*>(b.data()), k);
    n += k;
    if (n == room) break;
  }
  return n;
}

// Progress on `lane` after a change: a waiting reader gets bytes (or eof/reset), a waiting
// writer gets room.
void settle(PipeState& s, Lane& lane) {
  const std::size_t wanted = lane.reader_peeks ? lane.peek_beyond : 0;
  if (lane.reader && (lane.unread() > wanted || lane.closed || lane.reset)) {
    error_code ec = lane.reset;
    std::size_t n = 0;
    if (!ec && !lane.reader_peeks) {
      n = fill(lane, lane.read_to);
      if (!n) ec = asio::error::eof;
    }
    complete(s, lane.reader, ec, n);
  }
  if (lane.writer && (lane.reset || lane.unread() < s.capacity)) {
    error_code ec = lane.reset;
    std::size_t n = ec ? 0 : take_in(lane, s.capacity, lane.write_from);
    complete(s, lane.writer, ec, n);
    if (n) settle(s, lane);
  }
}

}  // namespace

void PipeEnd::start_read(Handler h, detail::MutableBuffers to) {
  auto& lane = in();
  if (to.empty() && !lane.reset) return complete(*s_, std::move(h), {}, 0);
  lane.read_to = std::move(to);
  lane.reader_peeks = false;
  wait_for_bytes(std::move(h));
}

void PipeEnd::start_wait(Handler h, std::size_t beyond) {
  in().reader_peeks = true;
  in().peek_beyond = beyond;
  wait_for_bytes(std::move(h));
}

void PipeEnd::wait_for_bytes(Handler h) {
  auto& lane = in();
  lane.reader.emplace(std::move(h));
  auto slot = asio::get_associated_cancellation_slot(*lane.reader);
  if (slot.is_connected()) {
    std::weak_ptr<PipeState> weak = s_;
    int side = 1 - side_;
    slot.assign([weak, side](asio::cancellation_type) {
      if (auto s = weak.lock()) complete(*s, s->lanes[side].reader, asio::error::operation_aborted, 0);
    });
  }
  settle(*s_, lane);
}

void PipeEnd::start_write(Handler h, detail::ConstBuffers from) {
  auto& lane = out();
  if (lane.closed && !lane.reset) return complete(*s_, std::move(h), asio::error::broken_pipe, 0);
  if (from.empty() && !lane.reset) return complete(*s_, std::move(h), {}, 0);
  lane.write_from = std::move(from);
  lane.writer.emplace(std::move(h));
  auto slot = asio::get_associated_cancellation_slot(*lane.writer);
  if (slot.is_connected()) {
    std::weak_ptr<PipeState> weak = s_;
    int side = side_;
    slot.assign([weak, side](asio::cancellation_type) {
      if (auto s = weak.lock()) complete(*s, s->lanes[side].writer, asio::error::operation_aborted, 0);
    });
  }
  settle(*s_, lane);
}

std::size_t PipeEnd::write_now(std::string_view bytes) {
  if (!s_) return 0;
  auto& lane = out();
  if (lane.writer || lane.closed || lane.reset) return 0;
  detail::ConstBuffers from;
  from.items[0] = asio::const_buffer(bytes.data(), bytes.size());
  from.count = 1;
  const std::size_t n = take_in(lane, s_->capacity, from);
  if (n) settle(*s_, lane);
  return n;
}

std::string_view PipeEnd::peek() const {
  if (!s_ || in().reset) return {};
  const auto& lane = in();
  return std::string_view(lane.bytes).substr(lane.taken);
}

void PipeEnd::consume(std::size_t n) {
  if (!s_ || !n) return;
  auto& lane = in();
  lane.taken += std::min(n, lane.unread());
  if (!lane.unread()) {
    lane.bytes.clear();
    lane.taken = 0;
  }
  settle(*s_, lane);  // a waiting writer gets the room
}

void PipeEnd::shutdown_send() {
  if (!s_) return;
  out().closed = true;
  settle(*s_, out());
}

void PipeEnd::reset(error_code ec) {
  if (!s_) return;
  for (auto& lane : s_->lanes) {
    if (!lane.reset) lane.reset = ec;
    settle(*s_, lane);
  }
}

void PipeEnd::cancel() {
  if (!s_) return;
  complete(*s_, in().reader, asio::error::operation_aborted, 0);
  complete(*s_, out().writer, asio::error::operation_aborted, 0);
}

std::pair<PipeEnd, PipeEnd> make_pipe(asio::any_io_executor executor, std::size_t capacity) {
  auto s = std::make_shared<PipeState>(capacity);
  s->executor = std::move(executor);
  return {PipeEnd(s, 0), PipeEnd(s, 1)};
}

}  // namespace corral::proxy::h2
