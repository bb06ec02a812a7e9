#pragma once
// The live progress line while a mode runs: on a terminal rewritten in place every second, in
// a log a line every five seconds.
#include <cstdint>
#include <string>

namespace corral::compare {

// Where progress goes (stderr).
class ProgressLine {
 public:
  ProgressLine();
  void update(const std::string& label, double elapsed_s, double total_s, double rps,
              std::uint64_t failed, std::uint64_t lost);
  void note(const std::string& text);  // a line of its own (a fault)
  void done();

 private:
  bool tty_ = false;
  bool open_ = false;
  double last_printed_ = -10;
};

}  // namespace corral::compare
