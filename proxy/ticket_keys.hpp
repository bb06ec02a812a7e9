#pragma once
// The session-ticket keys of one proxy generation, shared by all its threads (a client that
// resumes may land on any thread): a current key encrypts new tickets and is replaced every
// `interval`; the keys before it still open tickets for `kept` intervals, so a ticket works for
// at least (kept - 1) intervals. Pure but for the lock: time and randomness are injected.
#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace corral::proxy {

class TicketKeys {
 public:
  using Clock = std::chrono::steady_clock;
  using Random = std::function<void(unsigned char*, std::size_t)>;

  struct Key {
    std::array<unsigned char, 16> name{};  // sent in the ticket, to find the key again
    std::array<unsigned char, 32> aes{};   // AES-256-CBC
    std::array<unsigned char, 32> hmac{};  // HMAC-SHA256
  };

  TicketKeys(Clock::duration interval, unsigned kept, Random random);

  // The key for a new ticket; makes a new one when the current is `interval` old.
  Key current(Clock::time_point now);
  // The key called `name` while it is kept, and whether it is still the current one (a ticket
  // under an older key is renewed).
  struct Found {
    Key key;
    bool current = false;
  };
  std::optional<Found> find(const unsigned char* name, Clock::time_point now);

  Clock::duration lifetime() const { return interval_ * static_cast<int>(kept_ - 1); }

 private:
  struct Entry {
    Key key;
    Clock::time_point made;
  };
  void rotate_if_due(Clock::time_point now);

  const Clock::duration interval_;
  const unsigned kept_;
  Random random_;
  std::mutex mutex_;
  std::deque<Entry> keys_;  // newest first
};

}  // namespace corral::proxy
