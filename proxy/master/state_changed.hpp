#pragma once
// A wake-up for the master's coroutines: whoever changes something a coroutine may wait for
// (a worker ready or gone, a proxy message) calls notify(); waiters re-check their condition.
// The master runs on one thread, so conditions are plain reads of its state.
#include <functional>
#include <list>

#include "proxy/master/asio.hpp"
#include "proxy/master/process_table.hpp"

namespace corral::master {

// Wakes every coroutine waiting in wait_until().
class StateChanged {
 public:
  explicit StateChanged(asio::io_context& ioc) : ioc_(ioc) {}

  void notify() {
    for (asio::steady_timer* timer : waiting_) timer->cancel();
  }

  // Waits until `holds()` is true or `deadline` passes; returns `holds()`.
  awaitable<bool> wait_until(std::function<bool()> holds, Clock::time_point deadline) {
    asio::steady_timer timer(ioc_);
    // Registered for the whole wait, and unregistered even if the loop is torn down mid-wait.
    struct Registration {
      std::list<asio::steady_timer*>& list;
      std::list<asio::steady_timer*>::iterator it;
      ~Registration() { list.erase(it); }
    } registration{waiting_, waiting_.insert(waiting_.end(), &timer)};
    for (;;) {
      if (holds()) co_return true;
      if (Clock::now() >= deadline) co_return false;
      timer.expires_at(deadline);
      co_await timer.async_wait(nothrow);
    }
  }

 private:
  asio::io_context& ioc_;
  std::list<asio::steady_timer*> waiting_;
};

}  // namespace corral::master
