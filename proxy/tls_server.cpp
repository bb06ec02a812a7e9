#include "proxy/tls_server.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>

#include <cstring>
#include <stdexcept>

#include "proxy/sni_match.hpp"
#include "proxy/ticket_keys.hpp"

namespace corral::proxy {
namespace {

namespace ssl = boost::asio::ssl;

// Where a context keeps its TicketKeys: an ex_data slot of our own (Asio's context uses the
// app_data slot for its verify callback).
int ticket_keys_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool set_hmac_key(EVP_MAC_CTX* hctx, TicketKeys::Key& key) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

// OpenSSL's ticket key callback: 1 = use this key, 2 = decrypted under an older key (OpenSSL
// then issues a new ticket under the current one), 0 = unknown key (a full handshake), -1 = error.
int on_ticket_key(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cctx,
                  EVP_MAC_CTX* hctx, int encrypt) {
  auto* keys = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticket_keys_index()));
  if (!keys) return -1;
  const auto now = TicketKeys::Clock::now();
  const EVP_CIPHER* cipher = EVP_aes_256_cbc();
  if (encrypt) {
    TicketKeys::Key key = keys->current(now);
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(cipher)) != 1) return -1;
    if (EVP_EncryptInit_ex(cctx, cipher, nullptr, key.aes.data(), iv) != 1) return -1;
    return set_hmac_key(hctx, key) ? 1 : -1;
  }
  auto found = keys->find(key_name, now);
  if (!found) return 0;
  if (!set_hmac_key(hctx, found->key)) return -1;
  if (EVP_DecryptInit_ex(cctx, cipher, nullptr, found->key.aes.data(), iv) != 1) return -1;
  return found->current ? 1 : 2;
}

int on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
            unsigned int inlen, void* arg) {
  const auto* wire = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  // Server preference: the first of ours the client also offers.
  if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(wire->data()),
                            static_cast<unsigned int>(wire->size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no protocol in common: go on without ALPN (HTTP/1.1)
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

ListenerTlsFiles load_listener_tls(const config::ListenerTls& tls, const std::string& key) {
  ListenerTlsFiles out;
  out.settings = tls;
  for (std::size_t i = 0; i < tls.certificates.size(); ++i) {
    auto loaded = load_certificate(tls.certificates[i]);
    if (auto* message = std::get_if<std::string>(&loaded)) {
      const std::string at = tls.certificates.size() == 1
                                 ? key
                                 : key + ".certificates[" + std::to_string(i) + "]";
      throw std::runtime_error(at + ": " + *message);
    }
    out.certificates.push_back(std::get<LoadedCertificate>(std::move(loaded)));
  }
  return out;
}

ServerTls::ServerTls(const ListenerTlsFiles& files, TicketKeys& keys) {
  const auto& settings = files.settings;
  for (const std::string& protocol : settings.alpn) {
    alpn_wire_.push_back(static_cast<char>(protocol.size()));
    alpn_wire_ += protocol;
  }
  for (const LoadedCertificate& cert : files.certificates) {
    auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX* ctx = context->native_handle();
    context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Idle connections give OpenSSL's record buffers back.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_min_proto_version(
        ctx, settings.min_version == config::TlsVersion::v1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
    context->use_certificate_chain(boost::asio::buffer(cert.chain_pem));
    context->use_private_key(boost::asio::buffer(cert.key_pem), ssl::context::pem);
    static const unsigned char id_context[] = "corral";
    SSL_CTX_set_session_id_context(ctx, id_context, sizeof id_context - 1);
    if (settings.session_tickets) {
      // Stateless resumption only: tickets under keys every thread shares, no per-thread cache.
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
      SSL_CTX_set_ex_data(ctx, ticket_keys_index(), &keys);
      SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key);
      SSL_CTX_set_timeout(ctx, static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                                     keys.lifetime())
                                                     .count()));
    } else {
      SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
      SSL_CTX_set_num_tickets(ctx, 0);
    }
    if (!alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx, on_alpn, &alpn_wire_);
    contexts_.push_back(std::move(context));
    names_.push_back(cert.names);
  }
  if (contexts_.size() > 1) {
    SSL_CTX* first = contexts_.front()->native_handle();
    SSL_CTX_set_tlsext_servername_callback(first, on_server_name);
    SSL_CTX_set_tlsext_servername_arg(first, this);
  }
}

ServerTls::~ServerTls() = default;

int ServerTls::on_server_name(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<ServerTls*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  const std::size_t i = pick_certificate(self->names_, name);
  if (i != 0) SSL_set_SSL_CTX(ssl, self->contexts_[i]->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

std::string_view negotiated_alpn(SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &data, &length);
  return data ? std::string_view(reinterpret_cast<const char*>(data), length) : std::string_view{};
}

}  // namespace corral::proxy
