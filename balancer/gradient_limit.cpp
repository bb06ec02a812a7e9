#include "balancer/gradient_limit.hpp"

#include <algorithm>
#include <cmath>

namespace corral::balancer {

namespace {
// Samples kept per window or probe: the median of more says nothing new, and the vector never
// grows past its first reservation.
constexpr std::size_t max_samples = 512;
}  // namespace

GradientLimit::GradientLimit(const Options& options, time_point now)
    : options_(options),
      limit_(options.probe_limit),
      limit_before_probe_(std::max(options.min_limit, options.probe_limit)) {
  samples_.reserve(max_samples);
  start_probe(now);
}

void GradientLimit::restart(time_point now) {
  limit_before_probe_ = std::max(options_.min_limit, options_.probe_limit);
  min_rtt_ = duration::zero();
  start_probe(now);
}

void GradientLimit::lift(time_point now) {
  if (probing_) {
    probing_ = false;
    // Never measured: an unloaded round trip is taken as the probe's length, so short requests
    // that follow show a gradient that lets the limit grow.
    if (min_rtt_ == duration::zero()) min_rtt_ = options_.probe_max;
  }
  limit_ = std::min(options_.max_limit, std::max(limit_ * 2, limit_ + 1));
  samples_.clear();
  max_in_flight_ = 0;
  window_started_ = now;
  windows_at_floor_ = 0;
  next_probe_ = now + options_.probe_interval;
}

GradientLimit::duration GradientLimit::stall_after() const {
  return std::max<duration>(std::chrono::milliseconds(250), 8 * min_rtt_);
}

void GradientLimit::start_probe(time_point now) {
  if (!probing_) limit_before_probe_ = limit_;
  probing_ = true;
  limit_ = std::clamp(options_.probe_limit, 1u, options_.max_limit);
  probe_started_ = now;
  windows_at_floor_ = 0;
  samples_.clear();
}

GradientLimit::duration GradientLimit::median() {
  auto mid = samples_.begin() + static_cast<std::ptrdiff_t>(samples_.size() / 2);
  std::nth_element(samples_.begin(), mid, samples_.end());
  return *mid;
}

bool GradientLimit::on_sample(time_point now, time_point dispatched, duration rtt,
                              unsigned in_flight, double random01) {
  const unsigned before = limit_;
  if (probing_) {
    // Requests sent before the probe began ran at the old concurrency: they say nothing of the
    // unloaded latency.
    if (dispatched < probe_started_) return false;
    if (samples_.size() < max_samples) samples_.push_back(rtt);
    const bool enough = samples_.size() >= options_.probe_samples ||
                        (now - probe_started_ >= options_.probe_max &&
                         samples_.size() >= options_.min_probe_samples);
    if (!enough) return false;
    min_rtt_ = std::max(median(), duration(1));
    probing_ = false;
    limit_ = std::clamp(limit_before_probe_, options_.min_limit, options_.max_limit);
    samples_.clear();
    max_in_flight_ = 0;
    window_started_ = now;
    const auto jitter = std::chrono::duration_cast<duration>(
        options_.probe_interval * (options_.probe_jitter * std::clamp(random01, 0.0, 1.0)));
    next_probe_ = now + options_.probe_interval + jitter;
    return limit_ != before;
  }

  if (samples_.size() < max_samples) samples_.push_back(rtt);
  max_in_flight_ = std::max(max_in_flight_, in_flight);
  const auto elapsed = now - window_started_;
  if (elapsed < options_.window || samples_.size() < options_.min_window_samples) return false;
  const duration sample_rtt = std::max(median(), duration(1));
  // A window must span a few round trips, or its median is one request's latency.
  if (elapsed < 2 * sample_rtt) return false;

  // The latency of this worker never goes below what it takes unloaded.
  min_rtt_ = std::min(min_rtt_, sample_rtt);
  const double gradient =
      std::clamp(static_cast<double>(min_rtt_.count()) * (1.0 + options_.buffer) /
                     static_cast<double>(sample_rtt.count()),
                 0.5, 2.0);
  const double scaled = static_cast<double>(limit_) * gradient;
  double next = scaled + std::sqrt(scaled);
  // Demand-limited: fewer than half the limit were ever in flight, so a flat latency says
  // nothing about more concurrency.
  if (next > limit_ && max_in_flight_ * 2 < limit_) next = limit_;
  limit_ = static_cast<unsigned>(std::clamp(std::floor(next),
                                            static_cast<double>(options_.min_limit),
                                            static_cast<double>(options_.max_limit)));
  samples_.clear();
  max_in_flight_ = 0;
  window_started_ = now;
  windows_at_floor_ = limit_ == options_.min_limit ? windows_at_floor_ + 1 : 0;
  if (now >= next_probe_ || windows_at_floor_ >= 5) start_probe(now);
  return limit_ != before;
}

}  // namespace corral::balancer
