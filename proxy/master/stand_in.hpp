#pragma once
// While no proxy generation serves (a proxy in a crash loop), the master itself answers on the
// listening sockets it holds: every connection gets a short 503 and is closed, instead of
// waiting unanswered in the backlog.
#include <memory>
#include <string>
#include <vector>

#include "proxy/master/asio.hpp"
#include "proxy/master/listener_set.hpp"

namespace corral::master {

// The master's 503 on the held listeners while no proxy serves.
class StandIn {
 public:
  explicit StandIn(asio::io_context& ioc) : ioc_(ioc) {}
  ~StandIn() { stop(); }

  // Starts answering on copies of every socket of `listeners` with `reason` as the body; a
  // second start only changes the reason.
  void start(const ListenerSet& listeners, std::string reason);
  // Stops answering (a proxy serves again); connections being answered finish on their own.
  void stop();
  bool active() const { return !acceptors_.empty(); }

 private:
  awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor);

  asio::io_context& ioc_;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors_;
  std::shared_ptr<std::string> response_;
};

}  // namespace corral::master
