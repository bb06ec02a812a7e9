#include "proxy/sni_match.hpp"

#include <boost/beast/core/string.hpp>

namespace corral::proxy {

std::size_t pick_certificate(std::span<const std::vector<std::string>> names, std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty()) return 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (const std::string& name : names[i])
      if (boost::beast::iequals(name, host)) return i;
  }
  const auto dot = host.find('.');
  if (dot == std::string_view::npos || dot == 0) return 0;
  const std::string_view rest = host.substr(dot);  // ".example.com"
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (const std::string& name : names[i]) {
      if (name.size() > 2 && name.starts_with("*.") &&
          boost::beast::iequals(std::string_view(name).substr(1), rest))
        return i;
    }
  }
  return 0;
}

}  // namespace corral::proxy
