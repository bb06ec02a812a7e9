// listen entries with tls:, and upstreams with tls:.
#include <gtest/gtest.h>

#include "config/load.hpp"

namespace corral::config {
namespace {

std::vector<std::string> lines_of(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const Problem& problem : result.problems) lines.push_back(problem.to_string());
  return lines;
}

Config loaded(std::string_view text, std::string file = "/etc/corral/c.yaml") {
  LoadResult result = load_string(text, file);
  EXPECT_TRUE(result.config) << ::testing::PrintToString(lines_of(result));
  return result.config ? *result.config : Config{};
}

std::vector<std::string> problems(std::string_view text) {
  LoadResult result = load_string(text, "c.yaml");
  EXPECT_FALSE(result.config);
  return lines_of(result);
}

TEST(ListenTls, PlainStringsAndMapsMix) {
  Config c = loaded(R"(listen:
  - 127.0.0.1:8080
  - address: 127.0.0.1:8443
    tls: { cert: site.crt, key: /keys/site.key, min_version: "1.3" }
upstreams: [127.0.0.1:3000]
)");
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[0].address.port, 8080);
  EXPECT_FALSE(c.listen[0].tls);
  ASSERT_TRUE(c.listen[1].tls);
  const ListenerTls& tls = *c.listen[1].tls;
  EXPECT_EQ(c.listen[1].address.port, 8443);
  ASSERT_EQ(tls.certificates.size(), 1u);
  EXPECT_EQ(tls.certificates[0].cert, "/etc/corral/site.crt");  // from the config's folder
  EXPECT_EQ(tls.certificates[0].key, "/keys/site.key");
  EXPECT_EQ(tls.min_version, TlsVersion::v1_3);
  EXPECT_EQ(tls.alpn, (std::vector<std::string>{"h2", "http/1.1"}));  // h2 first by default
  EXPECT_TRUE(tls.session_tickets);
}

TEST(ListenTls, OneMapWithoutAList) {
  Config c = loaded(
      "listen: { address: 127.0.0.1:8443, tls: { cert: a.crt, key: a.key } }\n"
      "upstreams: [127.0.0.1:3000]\n");
  ASSERT_EQ(c.listen.size(), 1u);
  ASSERT_TRUE(c.listen[0].tls);
  EXPECT_EQ(c.listen[0].tls->min_version, TlsVersion::v1_2);
}

TEST(ListenTls, SeveralCertificatesForSni) {
  Config c = loaded(R"(listen:
  - address: 0.0.0.0:443
    tls:
      certificates:
        - { cert: a.crt, key: a.key }
        - { cert: b.crt, key: b.key }
      session_tickets: false
      alpn: [http/1.1]
upstreams: [127.0.0.1:3000]
)");
  ASSERT_TRUE(c.listen[0].tls);
  const auto& certs = c.listen[0].tls->certificates;
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[1].cert, "/etc/corral/b.crt");
  EXPECT_EQ(certs[1].key, "/etc/corral/b.key");
  EXPECT_FALSE(c.listen[0].tls->session_tickets);
}

TEST(ListenTls, Problems) {
  const std::string up = "upstreams: [127.0.0.1:3000]\n";
  EXPECT_EQ(problems("listen: [{ address: 127.0.0.1:1, tls: { cert: a.crt } }]\n" + up),
            std::vector<std::string>{
                "c.yaml:1:39: listen[0].tls: missing key 'key' (the certificate's private key)"});
  EXPECT_EQ(problems("listen: [{ address: 127.0.0.1:1, tls: {} }]\n" + up),
            std::vector<std::string>{
                "c.yaml:1:39: listen[0].tls: missing keys 'cert' and 'key' (or 'certificates')"});
  EXPECT_EQ(problems("listen: [{ address: 127.0.0.1:1, tls: { cert: a, key: b, min_version: "
                     "\"1.1\" } }]\n" + up),
            std::vector<std::string>{
                "c.yaml:1:71: listen[0].tls.min_version: expected 1.2 or 1.3, got '1.1'"});
  EXPECT_EQ(problems("listen: [{ address: 127.0.0.1:1, tls: { cert: a, key: b, alpn: [h3] } }]\n" +
                     up),
            std::vector<std::string>{"c.yaml:1:65: listen[0].tls.alpn[0]: unsupported protocol "
                                     "'h3' (supported: h2, http/1.1)"});
  EXPECT_EQ(problems("listen: [{ address: 127.0.0.1:1, h2c: true, tls: { cert: a, key: b } }]\n" +
                     up),
            std::vector<std::string>{"c.yaml:1:39: listen[0].h2c: h2c is for plain listeners; a TLS "
                                     "listener offers h2 through tls.alpn"});
  EXPECT_EQ(problems("listen: 127.0.0.1:1\nhttp2: { max_concurrent_streams: 0, stream_window: 1KiB }\n" + up),
            (std::vector<std::string>{
                "c.yaml:2:34: http2.max_concurrent_streams: expected at least 1",
                "c.yaml:2:52: http2.stream_window: expected a size from 16KiB to 2GiB"}));
  EXPECT_EQ(problems("listen: [{ tls: { cert: a, key: b } }]\n" + up),
            std::vector<std::string>{"c.yaml:1:10: listen[0]: missing key 'address'"});
  EXPECT_EQ(problems("listen: [{ address: 127.0.0.1:1, tls: { cert: a, key: b, certificates: "
                     "[{cert: c, key: d}] } }]\n" + up),
            std::vector<std::string>{
                "c.yaml:1:39: listen[0].tls: give either cert and key, or certificates, not both"});
  EXPECT_EQ(problems("listen: [{ address: 127.0.0.1:1, tls: { certificates: [{cert: c}] } }]\n" +
                     up),
            std::vector<std::string>{
                "c.yaml:1:56: listen[0].tls.certificates[0]: missing key 'key'"});
  EXPECT_EQ(problems("listen: [{ address: 127.0.0.1:1, tls: { crt: a, key: b } }]\n" + up),
            (std::vector<std::string>{
                "c.yaml:1:39: listen[0].tls: missing key 'cert' (the key's certificate)",
                "c.yaml:1:41: listen[0].tls.crt: unknown key; did you mean 'cert'?"}));
}

TEST(ListenTls, HandshakeTimeout) {
  Config c = loaded("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\ntimeouts: { handshake: 3s }\n");
  EXPECT_EQ(c.timeouts.handshake, std::chrono::seconds(3));
  Config d = loaded("listen: 127.0.0.1:1\nupstreams: [127.0.0.1:2]\n");
  EXPECT_EQ(d.timeouts.handshake, std::chrono::seconds(10));
}

TEST(UpstreamTls, Keys) {
  Config c = loaded(R"(listen: 127.0.0.1:1
upstreams:
  - { address: 127.0.0.1:3000, tls: { ca: ca.pem, sni: api.internal } }
  - { address: 127.0.0.1:3001, tls: { verify: false } }
  - { address: 127.0.0.1:3002, tls: }
  - 127.0.0.1:3003
)");
  ASSERT_EQ(c.upstreams.size(), 4u);
  ASSERT_TRUE(c.upstreams[0].tls);
  EXPECT_TRUE(c.upstreams[0].tls->verify);
  EXPECT_EQ(c.upstreams[0].tls->ca, "/etc/corral/ca.pem");
  EXPECT_EQ(c.upstreams[0].tls->sni, "api.internal");
  ASSERT_TRUE(c.upstreams[1].tls);
  EXPECT_FALSE(c.upstreams[1].tls->verify);
  ASSERT_TRUE(c.upstreams[2].tls);  // tls with nothing under it: verified against the system's CAs
  EXPECT_TRUE(c.upstreams[2].tls->verify);
  EXPECT_TRUE(c.upstreams[2].tls->ca.empty());
  EXPECT_FALSE(c.upstreams[3].tls);
}

TEST(UpstreamTls, Problems) {
  EXPECT_EQ(problems("listen: 127.0.0.1:1\nupstreams: [{ address: 127.0.0.1:2, tls: { verify: "
                     "maybe } }]\n"),
            std::vector<std::string>{
                "c.yaml:2:52: upstreams[0].tls.verify: expected true or false, got 'maybe'"});
  EXPECT_EQ(problems("listen: 127.0.0.1:1\nupstreams: [{ address: 127.0.0.1:2, tls: {} }]\n"
                     "health: {}\n"),
            std::vector<std::string>{"c.yaml:3:9: health: the active health check speaks plain "
                                     "HTTP and cannot check upstreams[0], which speaks TLS"});
}

}  // namespace
}  // namespace corral::config
