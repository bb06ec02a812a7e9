#include "proxy/compare/progress_line.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace corral::compare {

ProgressLine::ProgressLine() : tty_(::isatty(2) == 1) {}

void ProgressLine::update(const std::string& label, double elapsed_s, double total_s, double rps,
                          std::uint64_t failed, std::uint64_t lost) {
  const std::string text =
      fmt::format("{:<14} {:5.1f}/{:.0f}s {:8.0f} req/s  failed {:<6} sessions lost {}", label,
                  elapsed_s, total_s, rps, failed, lost);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    open_ = true;
  } else if (elapsed_s - last_printed_ >= 5) {
    std::fprintf(stderr, "%s\n", text.c_str());
    last_printed_ = elapsed_s;
  }
  std::fflush(stderr);
}

void ProgressLine::note(const std::string& text) {
  if (open_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "  %s\n", text.c_str());
  open_ = false;
  std::fflush(stderr);
}

void ProgressLine::done() {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
  last_printed_ = -10;
  std::fflush(stderr);
}

}  // namespace corral::compare
