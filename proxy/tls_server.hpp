#pragma once
// A TLS listener's server side: its certificates read once per proxy generation
// (ListenerTlsFiles), and one proxy thread's contexts built from them (ServerTls): the
// certificate chosen by SNI, TLS 1.2/1.3 from min_version, ALPN, and resumption by session
// tickets under the generation's shared, rotating keys (TicketKeys).
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "proxy/tls_certificate.hpp"

namespace corral::proxy {

class TicketKeys;

struct ListenerTlsFiles {
  config::ListenerTls settings;
  std::vector<LoadedCertificate> certificates;  // settings.certificates, read; the first is the default
};

// Reads every certificate of `tls`; throws std::runtime_error with `key` (the listener's key
// path, e.g. "listen[1].tls") and the message naming the file at fault.
ListenerTlsFiles load_listener_tls(const config::ListenerTls& tls, const std::string& key);

// One proxy thread's TLS contexts for one listener, shared by that thread's sessions.
class ServerTls {
 public:
  ServerTls(const ListenerTlsFiles& files, TicketKeys& keys);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // The context new sessions start with (the default certificate's); SNI may move a session to
  // another certificate's during its handshake.
  boost::asio::ssl::context& context() { return *contexts_.front(); }

 private:
  static int on_server_name(SSL* ssl, int* alert, void* arg);

  std::vector<std::unique_ptr<boost::asio::ssl::context>> contexts_;  // by certificate
  std::vector<std::vector<std::string>> names_;                       // by certificate
  std::string alpn_wire_;  // the ALPN protocols offered, in wire format (length-prefixed)
};

// The protocol ALPN agreed on a session (empty when none): the seam where a codec other than
// HTTP/1.1 (h2) would be chosen.
std::string_view negotiated_alpn(SSL* ssl);

}  // namespace corral::proxy
