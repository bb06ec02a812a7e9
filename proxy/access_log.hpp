#pragma once
// The access log of one proxy thread: lines are formatted into a buffer and written in batches,
// so a request costs no syscall of its own.
#include <chrono>
#include <string>
#include <string_view>

#include "proxy/asio.hpp"

namespace corral::proxy {

// One finished request, as the log line shows it.
struct AccessRecord {
  std::string_view client_ip;
  std::string_view method;
  std::string_view target;
  unsigned version = 11;
  unsigned status = 0;
  std::uint64_t bytes_sent = 0;
  std::chrono::nanoseconds took{};
  std::string_view upstream;  // "-" when none
  std::string_view request_id;
};

class AccessLog {
 public:
  // fd: where lines go (1 for stdout, an opened file); -1 disables the log.
  AccessLog(asio::io_context& ioc, int fd);
  ~AccessLog();

  bool enabled() const { return fd_ >= 0; }
  void write(const AccessRecord& r);
  void flush();

 private:
  void schedule_flush();
  asio::steady_timer timer_;
  int fd_;
  std::string buffer_;
  bool flush_scheduled_ = false;
};

// Opens the access log target of the config: "off" → -1, "stdout" → 1, else the file (append).
int open_access_log(const std::string& target);

}  // namespace corral::proxy
