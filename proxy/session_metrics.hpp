#pragma once
// The shared session store as the admin listener shows it: Redis metrics and readiness.
#include <memory>
#include <string>
#include <vector>

namespace corral::proxy {

class ProxyThread;

// Appends the session store's metrics (Prometheus text), summed over the threads; nothing
// when shared-state mode is off.
void append_session_metrics(std::string& out,
                            const std::vector<std::unique_ptr<ProxyThread>>& threads);

// Whether every thread has a ready Redis connection (true when shared-state mode is off).
bool session_store_up(const std::vector<std::unique_ptr<ProxyThread>>& threads);

}  // namespace corral::proxy
