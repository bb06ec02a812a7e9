#pragma once
// The client as proxies in front of corral report it (trusted_proxies): the address for
// a client_ip key from X-Forwarded-For, and https from X-Forwarded-Proto, both believed only when
// the TCP peer is a trusted proxy, so a client cannot choose its own key by sending the headers.
#include <array>
#include <span>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include "proxy/header_fields.hpp"

#include "config/cidr.hpp"
#include "config/config.hpp"

namespace corral::proxy {

namespace http = boost::beast::http;

// Whether the TCP peer is in one of `trusted`; an IPv4-mapped IPv6 peer (::ffff:10.1.2.3, as a
// dual-stack listener reports IPv4 clients) matches IPv4 ranges.
bool is_trusted_proxy(const boost::asio::ip::address& peer, std::span<const config::Cidr> trusted);

// The client's address: `peer` unless `peer_trusted`; then X-Forwarded-For read the standard way.
// The entries of every X-Forwarded-For field, in order, are walked from the right (the hop
// nearest corral first); trusted entries are skipped and the first untrusted one is the client.
// When all are trusted, the left-most is. A malformed entry (not a bare IPv4 or IPv6 address:
// "unknown", a port, brackets) ends the walk at the last good entry, or `peer`; empty list
// elements are ignored. The result is a view into a field's value or into `peer`.
//
// Pass the request as the client sent it, before rewrite_request appends the peer (the
// answer is the same after it, since a trusted peer is skipped, but the view would then point
// into the rewritten field rather than one that is replaced).
std::string_view client_address(const Fields& h, std::string_view peer, bool peer_trusted,
                                std::span<const config::Cidr> trusted);

// Whether X-Forwarded-Proto's first value is https (case-insensitive). Says nothing about
// whether it may be believed.
bool forwarded_https(const Fields& h);

// Whether corral's cookie (corral_affinity, or the session cookie) gets Secure: always or never
// when configured so; under `automatic` when the client spoke TLS to corral itself (`tls`), or
// a trusted peer forwarded the request with X-Forwarded-Proto: https.
bool affinity_cookie_secure(config::CookieSecure mode, const Fields& h, bool peer_trusted,
                            bool tls = false);

// One client connection's view of the above: whether its peer is trusted (decided once), and
// per request the client_ip key, https and the Secure flag, read before rewrite_request replaces
// X-Forwarded-Proto and joins X-Forwarded-For. The address is copied, so it outlives that.
class ForwardedClient {
 public:
  // Once per connection: whether `peer` is one of the config's trusted_proxies, and whether the
  // connection came in on a TLS listener (then the client spoke https, whatever it sends).
  void start(const config::Config& cfg, const boost::asio::ip::address& peer, bool tls = false);
  // Once per request, before rewrite_request; `peer` is the TCP peer's text and must outlive
  // the request.
  void read(const Fields& h, std::string_view peer);

  bool peer_trusted() const { return peer_trusted_; }
  // The address for a client_ip key: the peer, or what a trusted proxy forwarded.
  std::string_view client_ip() const { return client_ip_; }
  // Whether the client spoke https: to corral's TLS listener, or as a trusted proxy says
  // (X-Forwarded-Proto); the app is told https too.
  bool https() const { return https_; }
  // Whether this request's corral_affinity gets Secure.
  bool secure() const { return secure_; }
  // Whether the session cookie set on this request's answer gets Secure (sessions.secure).
  bool session_secure() const { return session_secure_; }

 private:
  const config::Config* cfg_ = nullptr;
  bool peer_trusted_ = false;
  bool tls_ = false;
  bool https_ = false;
  bool secure_ = false;
  bool session_secure_ = false;
  std::string_view client_ip_;
  std::array<char, 45> forwarded_ip_{};  // the longest address text fits
};

}  // namespace corral::proxy
