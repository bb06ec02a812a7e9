#pragma once
// The access log of one proxy thread: lines are formatted into a buffer and written in batches
// (when 32 KiB are pending, and by the thread's periodic flush), so a request costs no syscall.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>


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
  std::chrono::nanoseconds queued{};  // of `took`: waiting in the proxy's queue for a worker slot
  std::string_view upstream;  // "-" when none
  std::string_view request_id;
};

class AccessLog {
 public:
  // fd: where lines go (1 for stdout, an opened file); -1 disables the log.
  explicit AccessLog(int fd);
  ~AccessLog();

  bool enabled() const { return fd_ >= 0; }
  void write(const AccessRecord& r);
  void flush();

 private:
  int fd_;
  std::string buffer_;
};

// Opens the access log target of the config: "off" → -1, "stdout" → 1, else the file (append).
int open_access_log(const std::string& target);

}  // namespace corral::proxy
