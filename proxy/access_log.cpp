#include "proxy/access_log.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <ctime>
#include <stdexcept>
#include <cstring>

namespace corral::proxy {

namespace {
constexpr std::size_t flush_at = 32 * 1024;
}

AccessLog::AccessLog(int fd) : fd_(fd) {
  if (fd_ >= 0) buffer_.reserve(flush_at * 2);
}

AccessLog::~AccessLog() { flush(); }

void AccessLog::write(const AccessRecord& r) {
  if (fd_ < 0) return;
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  fmt::format_to(std::back_inserter(buffer_),
                 "{:%Y-%m-%dT%H:%M:%S}.{:03}Z {} \"{} {} HTTP/{}.{}\" {} {} {:.3f}ms queue={:.3f}ms upstream={} rid={}\n",
                 fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms.count(), r.client_ip,
                 r.method, r.target, r.version / 10, r.version % 10, r.status, r.bytes_sent,
                 std::chrono::duration<double, std::milli>(r.took).count(),
                 std::chrono::duration<double, std::milli>(r.queued).count(),
                 r.upstream.empty() ? std::string_view("-") : r.upstream, r.request_id);
  if (buffer_.size() >= flush_at) flush();
}

void AccessLog::flush() {
  std::size_t off = 0;
  while (off < buffer_.size()) {
    auto n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
    if (n <= 0) break;  // a log that cannot be written must not stop the traffic
    off += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

int open_access_log(const std::string& target) {
  if (target == "off") return -1;
  if (target == "stdout") return 1;
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open access log '" + target + "': " + std::strerror(errno));
  return fd;
}

}  // namespace corral::proxy
