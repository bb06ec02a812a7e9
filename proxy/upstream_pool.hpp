#pragma once
// Keep-alive connections of one proxy thread to each upstream slot. Taken for one request,
// given back when the response ended cleanly; stale ones are dropped on take.
#include <chrono>
#include <memory>
#include <vector>

#include "balancer/slot.hpp"
#include "proxy/asio.hpp"
#include "proxy/socket_stream.hpp"

namespace corral::proxy {

// One connection to an upstream with its read buffer.
struct UpstreamConnection {
  explicit UpstreamConnection(asio::io_context& ioc, balancer::SlotId s) : socket(ioc), slot(s) {}
  SocketStream socket;  // TLS once connected, for an upstream with tls:
  beast::flat_buffer buffer;
  balancer::SlotId slot;
  std::chrono::steady_clock::time_point idle_since;
  bool reused = false;  // taken from the pool: the upstream may have closed it meanwhile
};

class UpstreamPool {
 public:
  UpstreamPool(asio::io_context& ioc, std::size_t slots, std::chrono::milliseconds max_idle);

  // An idle connection to `slot`, or a new unconnected one.
  std::unique_ptr<UpstreamConnection> take(balancer::SlotId slot);
  // A new unconnected one, whatever is pooled.
  std::unique_ptr<UpstreamConnection> fresh(balancer::SlotId slot) {
    return std::make_unique<UpstreamConnection>(ioc_, slot);
  }
  void give_back(std::unique_ptr<UpstreamConnection> c);
  void clear();
  void clear_slot(balancer::SlotId slot) { idle_[slot].clear(); }

 private:
  static constexpr std::size_t max_idle_per_slot_ = 1024;
  asio::io_context& ioc_;
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
  std::chrono::milliseconds max_idle_;
};

}  // namespace corral::proxy
