#pragma once
// The sticky-session part of /metrics: the affinity table and every thread's router counters.
#include <memory>
#include <string>
#include <vector>

namespace corral::proxy {

class SharedState;
class ProxyThread;

// Appends the corral_sticky_* metrics to `out`; nothing unless balance: sticky.
void render_sticky_metrics(std::string& out, const SharedState& shared,
                           const std::vector<std::unique_ptr<ProxyThread>>& threads);

}  // namespace corral::proxy
