#include "proxy/upstream_tls.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

namespace corral::proxy {

UpstreamTlsContext make_upstream_tls(const config::Upstream& upstream) {
  namespace ssl = boost::asio::ssl;
  const config::UpstreamTls& tls = *upstream.tls;
  UpstreamTlsContext out;
  out.context = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* ctx = out.context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  out.server_name = tls.sni.empty() ? upstream.address.host : tls.sni;
  if (!tls.verify) {
    out.context->set_verify_mode(ssl::verify_none);
    return out;
  }
  out.context->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (tls.ca.empty()) {
    out.context->set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("cannot load the system's CA certificates: " + ec.message());
  } else {
    out.context->load_verify_file(tls.ca, ec);
    if (ec)
      throw std::runtime_error("upstream " + upstream.address.text + ": cannot load CA file '" +
                               tls.ca + "': " + ec.message());
  }
  return out;
}

}  // namespace corral::proxy
