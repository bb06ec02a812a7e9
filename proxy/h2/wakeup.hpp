#pragma once
// A coroutine's wait for a nudge from code on the same thread: `async_wait` completes once
// `notify` is called. A notify with nobody waiting is a no-op (the waiter re-checks its
// condition before each wait), so it costs a branch where a timer's cancel() would take the
// scheduler's lock. Completions go through the executor, never inline.
#include <optional>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

namespace corral::proxy::h2 {

class Wakeup {
 public:
  explicit Wakeup(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  template <typename Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](Handler h) { waiter_.emplace(std::move(h)); }, token);
  }

  // Wakes the waiter, if any.
  void notify() {
    if (!waiter_) return;
    Handler h(std::move(*waiter_));  // constructed, not assigned (see stream_pipe.hpp)
    waiter_.reset();
    boost::asio::post(ex_, [h = std::move(h)]() mutable { std::move(h)(boost::system::error_code{}); });
  }
  bool waiting() const { return waiter_.has_value(); }

 private:
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
  boost::asio::any_io_executor ex_;
  std::optional<Handler> waiter_;
};

}  // namespace corral::proxy::h2
