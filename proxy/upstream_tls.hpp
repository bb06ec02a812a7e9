#pragma once
// TLS towards a static upstream (`upstreams[i].tls`): the client context one proxy thread uses
// for that upstream's connections, and the name it sends and checks.
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "config/config.hpp"

namespace corral::proxy {

struct UpstreamTlsContext {
  std::unique_ptr<boost::asio::ssl::context> context;
  std::string server_name;  // tls.sni, or the address's host
};

// Reads the CA file (start-up only, never on the data path); throws std::runtime_error naming
// it when it cannot be read.
UpstreamTlsContext make_upstream_tls(const config::Upstream& upstream);

}  // namespace corral::proxy
