#pragma once
// One proxy process (a generation of the data plane) as the master sees it: started as
// `corral run --role=proxy -c FILE` with the master's listening sockets and its end of a
// control socketpair, it answers `ready`, `drained` and `stats` (proxy/membership.hpp).
#include <sys/types.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxy/master/asio.hpp"
#include "proxy/master/listener_set.hpp"
#include "proxy/master/process_table.hpp"
#include "proxy/membership.hpp"

namespace corral::master {

// One proxy generation.
class ProxyProcess : public std::enable_shared_from_this<ProxyProcess> {
 public:
  enum class State { starting, ready, draining, exited };
  using OnMessage = std::function<void(ProxyProcess&, const proxy::ControlMessage&)>;

  // Starts `binary run --role=proxy -c config_path` holding `listeners`, with `worker_slots`
  // worker slots (CORRAL_WORKER_SLOTS; 0 when the config fronts upstreams). Throws
  // std::runtime_error when it cannot be started.
  static std::shared_ptr<ProxyProcess> launch(asio::io_context& ioc, const std::string& binary,
                                              const std::string& config_path,
                                              const ListenerSet& listeners,
                                              std::uint32_t worker_slots, std::uint64_t generation);

  ProxyProcess(asio::io_context& ioc, pid_t pid, int control_fd, std::uint32_t worker_slots,
               std::uint64_t generation);

  // Starts reading its messages; the state follows `ready`, and `drained` and `stats` are kept.
  void start(OnMessage on_message);
  // Queues a message; a membership still waiting to be written is replaced by a newer one.
  void send(const proxy::ControlMessage& message);
  // Sends `drain`: it stops accepting, finishes its requests and exits.
  void drain();
  void exited(int wait_status);

  pid_t pid() const { return pid_; }
  std::uint64_t generation() const { return generation_; }
  std::uint32_t worker_slots() const { return worker_slots_; }
  State state() const { return state_; }
  Clock::time_point started_at() const { return started_at_; }
  const std::vector<proxy::SlotStats>& stats() const { return stats_; }
  std::uint64_t queued() const { return queued_; }  // requests in its queue, at the last stats
  // Whether it said `drained` for `slot` at generation `generation`, or for `slot` after
  // message number `after` (see received()).
  bool has_drained(std::uint32_t slot, std::uint64_t generation, std::uint64_t after) const;
  // Messages received so far.
  std::uint64_t received() const { return received_; }
  // Why it could not start (its `failed` message); empty when it said nothing of the kind.
  const std::string& failure() const { return failure_; }

 private:
  awaitable<void> read_loop(OnMessage on_message);
  awaitable<void> write_loop();
  void queue(std::string line, bool membership);

  // A drained report: the worker generation it named and the message number it came as.
  struct Drained {
    std::uint64_t generation = 0;
    std::uint64_t message = 0;
  };
  // A line waiting to be written.
  struct Pending {
    std::string line;
    bool membership = false;
  };

  asio::local::stream_protocol::socket control_;
  pid_t pid_;
  std::uint32_t worker_slots_;
  std::uint64_t generation_;
  State state_ = State::starting;
  Clock::time_point started_at_;
  std::deque<Pending> queue_;
  bool writing_ = false;
  std::vector<proxy::SlotStats> stats_;
  std::uint64_t queued_ = 0;
  std::map<std::uint32_t, Drained> drained_;
  std::uint64_t received_ = 0;
  std::string failure_;
};

std::string_view to_string(ProxyProcess::State s);

}  // namespace corral::master
