#pragma once
// Renders the sum of every proxy thread's counters in Prometheus text format.
#include <memory>
#include <string>
#include <vector>

namespace corral::proxy {

class SharedState;
class ProxyThread;

std::string render_metrics(const SharedState& shared,
                           const std::vector<std::unique_ptr<ProxyThread>>& threads);

}  // namespace corral::proxy
