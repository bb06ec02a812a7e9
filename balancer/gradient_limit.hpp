#pragma once
// An adaptive in-flight limit for one worker slot, in the form of Envoy's adaptive concurrency
// gradient controller: it finds the concurrency at which the worker's latency stops improving.
// Pure: time points and random draws are passed in.
#include <chrono>
#include <cstdint>
#include <vector>

namespace corral::balancer {

// The limit L of one slot. A probe pins L to `probe_limit` until it has measured the worker's
// unloaded latency (minRTT, the median of the probe's samples). Then every `window` the median
// latency of the window's samples (sampleRTT) gives gradient = clamp(minRTT * (1 + buffer) /
// sampleRTT, 0.5, 2) and L = L * gradient + sqrt(L * gradient), within [min_limit, max_limit].
// For a CPU-bound worker this settles at 2 (one request running, one ready behind it); for a
// worker that waits on I/O the latency stays flat and L grows with demand. L does not grow while
// fewer than L/2 requests were in flight (the demand, not the worker, held it back). Probes
// come again every `probe_interval` (plus up to `probe_jitter` of it) and after 5 windows in a
// row at the floor, and whenever a new worker takes the slot.
class GradientLimit {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  struct Options {
    unsigned min_limit = 1;
    unsigned max_limit = 1000;
    unsigned probe_limit = 1;
    duration window = std::chrono::milliseconds(100);
    duration probe_interval = std::chrono::seconds(30);
    double probe_jitter = 0.15;
    // A probe ends after `probe_samples` samples, or after `probe_max` with at least
    // `min_probe_samples`: a slow worker is not held at the probe limit for long.
    unsigned probe_samples = 25;
    unsigned min_probe_samples = 5;
    duration probe_max = std::chrono::milliseconds(250);
    unsigned min_window_samples = 5;
    double buffer = 0.25;
  };

  GradientLimit(const Options& options, time_point now);

  unsigned limit() const { return limit_; }
  bool probing() const { return probing_; }
  duration min_rtt() const { return min_rtt_; }

  // A response header arrived `rtt` after its request was dispatched at `dispatched`;
  // `in_flight`: requests on the slot when it was dispatched. `random01` in [0, 1) jitters the
  // next probe. Returns true when the limit changed.
  bool on_sample(time_point now, time_point dispatched, duration rtt, unsigned in_flight,
                 double random01);

  // A new worker in the slot: measure it afresh.
  void restart(time_point now);

  // The slot is full and nothing has come back for a while although requests wait: what holds
  // it are long requests (long polls, slow downloads) that say nothing of its concurrency.
  // Doubles the limit (ending a probe); the gradient takes over again with the next windows.
  void lift(time_point now);
  // How long a full slot may go without an answer before it is lifted: 8 unloaded round trips,
  // at least 250 ms.
  duration stall_after() const;

 private:
  void start_probe(time_point now);
  duration median();

  Options options_;
  unsigned limit_;
  unsigned limit_before_probe_;
  bool probing_ = true;
  time_point probe_started_;
  time_point window_started_;
  time_point next_probe_;
  duration min_rtt_{0};
  unsigned windows_at_floor_ = 0;
  unsigned max_in_flight_ = 0;  // in this window
  std::vector<duration> samples_;
};

}  // namespace corral::balancer
