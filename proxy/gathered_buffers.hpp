#pragma once
// The buffers one write_some hands a socket or a TLS session: at most eight, taken from whatever
// sequence the caller has. Asio's async_write gives each write_some a 64-entry prepared_buffers
// (over 1 KiB); kept in the socket's operation, it made every write too large for the thread's
// recycled blocks (1,020 bytes at most), so each write took a fresh aligned block from the heap
// and pushed a recycled one out. Eight is more than a relayed message's pieces come to (head,
// chunk framing, body), and a write_some may write less than it is given anyway: async_write
// goes on with the rest.
#include <array>
#include <cstddef>

#include <boost/asio/buffer.hpp>

namespace corral::proxy {

class GatheredBuffers {
 public:
  using value_type = boost::asio::const_buffer;
  using const_iterator = const boost::asio::const_buffer*;
  static constexpr std::size_t capacity = 8;

  // The first `capacity` non-empty buffers of `buffers`.
  template <class ConstBuffers>
  explicit GatheredBuffers(const ConstBuffers& buffers) {
    auto it = boost::asio::buffer_sequence_begin(buffers);
    const auto end = boost::asio::buffer_sequence_end(buffers);
    for (; it != end && count_ < capacity; ++it) {
      const boost::asio::const_buffer b = *it;
      if (b.size() > 0) items_[count_++] = b;
    }
  }

  const_iterator begin() const { return items_.data(); }
  const_iterator end() const { return items_.data() + count_; }

 private:
  std::array<boost::asio::const_buffer, capacity> items_{};
  std::size_t count_ = 0;
};

}  // namespace corral::proxy
