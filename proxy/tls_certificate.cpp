#include "proxy/tls_certificate.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace corral::proxy {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// The file's bytes, or a message.
std::variant<std::string, std::string> read_whole(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::variant<std::string, std::string>(
        std::in_place_index<1>, std::string("cannot read ") + what + " '" + path +
                                    "': " + std::strerror(errno));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return std::variant<std::string, std::string>(std::in_place_index<0>, out.str());
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> names_of(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type != GEN_DNS) continue;
      const auto* data = ASN1_STRING_get0_data(n->d.dNSName);
      names.push_back(lower(std::string(reinterpret_cast<const char*>(data),
                                        static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      names.push_back(lower(cn));
  }
  return names;
}

}  // namespace

std::variant<LoadedCertificate, std::string> load_certificate(const config::TlsCertificate& files) {
  using Result = std::variant<LoadedCertificate, std::string>;
  LoadedCertificate out;
  out.cert_file = files.cert;
  auto chain = read_whole(files.cert, "certificate file");
  if (chain.index() == 1) return Result(std::in_place_index<1>, std::get<1>(chain));
  auto key = read_whole(files.key, "key file");
  if (key.index() == 1) return Result(std::in_place_index<1>, std::get<1>(key));
  out.chain_pem = std::move(std::get<0>(chain));
  out.key_pem = std::move(std::get<0>(key));

  std::unique_ptr<BIO, BioFree> cert_bio(
      BIO_new_mem_buf(out.chain_pem.data(), static_cast<int>(out.chain_pem.size())));
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return Result(std::in_place_index<1>,
                  "certificate file '" + files.cert + "' holds no PEM certificate");
  }
  std::unique_ptr<BIO, BioFree> key_bio(
      BIO_new_mem_buf(out.key_pem.data(), static_cast<int>(out.key_pem.size())));
  // No passphrase callback: an encrypted key is refused rather than prompted for.
  static pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  std::unique_ptr<EVP_PKEY, KeyFree> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) {
    ERR_clear_error();
    return Result(std::in_place_index<1>, "key file '" + files.key +
                                              "' holds no PEM private key (or an encrypted one)");
  }
  if (X509_check_private_key(cert.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return Result(std::in_place_index<1>, "key file '" + files.key +
                                              "' is not the private key of certificate '" +
                                              files.cert + "'");
  }
  out.names = names_of(cert.get());
  return Result(std::in_place_index<0>, std::move(out));
}

}  // namespace corral::proxy
