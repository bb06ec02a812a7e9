#include "proxy/inherited_sockets.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "config/address.hpp"
#include "proxy/shared_state.hpp"

namespace corral::proxy {

namespace {

std::string address_text(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(ep.port());
  return a.to_string() + ":" + std::to_string(ep.port());
}

std::vector<BoundListener> parse(std::string_view text, const char* var) {
  std::vector<BoundListener> out;
  while (!text.empty()) {
    auto semi = text.find(';');
    auto item = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    auto eq = item.rfind('=');
    if (eq == std::string_view::npos) throw std::runtime_error(std::string("malformed ") + var);
    auto addr = config::parse_address(item.substr(0, eq));
    if (!addr) throw std::runtime_error(std::string("malformed address in ") + var);
    BoundListener l;
    l.local = resolve_address(*addr);
    auto fds = item.substr(eq + 1);
    while (!fds.empty()) {
      auto comma = fds.find(',');
      auto f = fds.substr(0, comma);
      fds = comma == std::string_view::npos ? std::string_view{} : fds.substr(comma + 1);
      l.fds.push_back(std::stoi(std::string(f)));
    }
    if (l.fds.empty()) throw std::runtime_error(std::string("no fd in ") + var);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

std::string describe_listeners(const std::vector<BoundListener>& listeners) {
  std::string out;
  for (const auto& l : listeners) {
    if (!out.empty()) out += ';';
    out += address_text(l.local) + '=';
    for (std::size_t i = 0; i < l.fds.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(l.fds[i]);
    }
  }
  return out;
}

std::optional<InheritedSockets> inherited_from_env() {
  const char* listen = std::getenv("CORRAL_LISTEN_FDS");
  if (!listen) return std::nullopt;
  InheritedSockets s;
  s.listeners = parse(listen, "CORRAL_LISTEN_FDS");
  if (const char* admin = std::getenv("CORRAL_ADMIN_FD"); admin && *admin) {
    auto a = parse(admin, "CORRAL_ADMIN_FD");
    if (!a.empty()) s.admin = std::move(a.front());
  }
  if (const char* control = std::getenv("CORRAL_CONTROL_FD"); control && *control)
    s.control_fd = std::atoi(control);
  return s;
}

}  // namespace corral::proxy
