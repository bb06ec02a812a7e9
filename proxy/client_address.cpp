#include "proxy/client_address.hpp"

#include <algorithm>

#include <boost/beast/core/string.hpp>

namespace corral::proxy {
namespace {

constexpr std::string_view x_forwarded_for = "X-Forwarded-For";
constexpr std::string_view x_forwarded_proto = "X-Forwarded-Proto";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

config::IpAddress to_ip(const boost::asio::ip::address& a) {
  if (a.is_v4()) return config::IpAddress::from_v4(a.to_v4().to_bytes());
  return config::IpAddress{a.to_v6().to_bytes()};
}

}  // namespace

bool is_trusted_proxy(const boost::asio::ip::address& peer,
                      std::span<const config::Cidr> trusted) {
  return !trusted.empty() && config::contains_any(trusted, to_ip(peer));
}

std::string_view client_address(const Fields& h, std::string_view peer, bool peer_trusted,
                                std::span<const config::Cidr> trusted) {
  if (!peer_trusted) return peer;
  std::string_view last_good = peer;
  // Fields are a list in arrival order: walk it backwards, and each value from its right.
  for (auto it = h.end(); it != h.begin();) {
    --it;
    if (!boost::beast::iequals(it->name_string(), x_forwarded_for)) continue;
    std::string_view list = it->value();
    while (!list.empty()) {
      const auto comma = list.rfind(',');
      std::string_view entry = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
      if (entry.empty()) continue;  // RFC 9110 §5.6.1: empty list elements are ignored
      const auto address = config::parse_ip(entry);
      if (!address) return last_good;
      if (!config::contains_any(trusted, *address)) return entry;
      last_good = entry;
    }
  }
  return last_good;
}

bool forwarded_https(const Fields& h) {
  const auto it = h.find(x_forwarded_proto);
  if (it == h.end()) return false;
  std::string_view value = it->value();
  return boost::beast::iequals(trim(value.substr(0, value.find(','))), "https");
}

bool affinity_cookie_secure(config::CookieSecure mode, const Fields& h, bool peer_trusted,
                            bool tls) {
  switch (mode) {
    case config::CookieSecure::always:
      return true;
    case config::CookieSecure::never:
      return false;
    case config::CookieSecure::automatic:
      break;
  }
  return tls || (peer_trusted && forwarded_https(h));
}

void ForwardedClient::start(const config::Config& cfg, const boost::asio::ip::address& peer,
                            bool tls) {
  cfg_ = &cfg;
  tls_ = tls;
  peer_trusted_ = is_trusted_proxy(peer, cfg.trusted_proxies);
}

void ForwardedClient::read(const Fields& h, std::string_view peer) {
  client_ip_ = peer;
  https_ = tls_ || (peer_trusted_ && forwarded_https(h));
  secure_ = false;
  session_secure_ = cfg_ && cfg_->sessions &&
                    affinity_cookie_secure(cfg_->sessions->secure, h, peer_trusted_, tls_);
  if (!cfg_ || cfg_->balance != config::Balance::sticky || !cfg_->sticky) return;
  const config::Sticky& sticky = *cfg_->sticky;
  if (sticky.mode == config::StickyMode::insert)
    secure_ = affinity_cookie_secure(sticky.secure, h, peer_trusted_, tls_);
  if (!peer_trusted_ || sticky.key_source != config::StickyKeySource::client_ip) return;
  const std::string_view forwarded = client_address(h, peer, peer_trusted_, cfg_->trusted_proxies);
  if (forwarded.data() == peer.data()) return;
  // A parsed address, so it fits; the field it points into may be replaced by rewrite_request.
  const std::size_t n = std::min(forwarded.size(), forwarded_ip_.size());
  std::copy_n(forwarded.data(), n, forwarded_ip_.data());
  client_ip_ = std::string_view(forwarded_ip_.data(), n);
}

}  // namespace corral::proxy
