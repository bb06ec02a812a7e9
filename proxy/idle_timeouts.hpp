#pragma once
// The deadlines of one proxy thread's idle client connections under a single timer. Entries with
// the same timeout join the tail of the same lane, so every lane is in deadline order without
// sorting; the timer is moved only when a new head is earlier than where it is set, and an entry
// that leaves (its next request arrived) costs an unlink, no timer operation.
#include <boost/intrusive/list.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "proxy/asio.hpp"

namespace corral::proxy {

class IdleTimeouts {
 public:
  using clock = std::chrono::steady_clock;

  // Something waiting under a deadline; in at most one lane at a time, and out of it when
  // destroyed. No virtual function: an idle connection pays for no second vtable pointer.
  class Entry : public boost::intrusive::list_base_hook<
                    boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
   public:
    clock::time_point deadline() const { return deadline_; }
    bool waiting() const { return is_linked(); }

   protected:
    ~Entry() = default;

   private:
    friend class IdleTimeouts;
    clock::time_point deadline_{};
  };

  // Called for an entry whose deadline passed, after it left its lane.
  using Expire = void (*)(Entry&);

  IdleTimeouts(asio::io_context& ioc, Expire expire) : expire_(expire), timer_(std::in_place, ioc) {}
  IdleTimeouts(const IdleTimeouts&) = delete;
  IdleTimeouts& operator=(const IdleTimeouts&) = delete;

  // `e` expires `after` from now; it leaves the lane it was in.
  void add(Entry& e, clock::duration after);
  // `e` leaves its lane without expiring.
  static void remove(Entry& e) { e.unlink(); }
  // The timer goes (before its io_context does): nothing expires after this.
  void close() { timer_.reset(); }

  // For tests: how many entries wait.
  std::size_t size() const;

 private:
  using List = boost::intrusive::list<Entry, boost::intrusive::constant_time_size<false>>;
  struct Lane {
    clock::duration after;
    List entries;
  };

  void set_timer(clock::time_point at);
  void on_timer();

  Expire expire_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // a handful: header, idle, drain grace
  std::optional<asio::steady_timer> timer_;
  clock::time_point timer_at_ = clock::time_point::max();
};

}  // namespace corral::proxy
