#pragma once
// Pure: which of a listener's certificates serves the host name a client asked for (SNI).
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corral::proxy {

// The index of the certificate whose names hold `host` exactly (case-insensitive); else the
// first with a wildcard "*.rest" where `host` is one label followed by ".rest"; else 0, the
// listener's default (the first certificate). A trailing dot on `host` is ignored.
std::size_t pick_certificate(std::span<const std::vector<std::string>> names, std::string_view host);

}  // namespace corral::proxy
