#pragma once
// A certificate chain and its private key read from their PEM files and checked to belong
// together, with the host names the certificate serves (for SNI). Read once at start-up, off
// the data path; each proxy thread builds its TLS contexts from the bytes kept here.
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"

namespace corral::proxy {

struct LoadedCertificate {
  std::string cert_file;  // as configured, for messages
  std::string chain_pem;  // the certificate, then its intermediates
  std::string key_pem;
  // DNS names of subjectAltName (or the subject's CN without any), lowercase; "*.a.b" wildcards
  // kept as written.
  std::vector<std::string> names;
};

// The certificate and key `files` name, or a message that names the file at fault: missing or
// unreadable, no PEM certificate or key in it, or a key that is not the certificate's.
std::variant<LoadedCertificate, std::string> load_certificate(const config::TlsCertificate& files);

}  // namespace corral::proxy
