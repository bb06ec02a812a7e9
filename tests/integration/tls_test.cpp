// TLS listeners and TLS upstreams, end to end with the real binary: certificates made at test
// time by the openssl command under a private CA; a TLS client of the test's own (Asio's ssl
// stream, every operation bounded) checks versions, SNI, resumption, reloads and tunnels.
#include <gtest/gtest.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/harness.hpp"

namespace corral::test {
namespace {

namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

void must(std::vector<std::string> argv) {
  auto r = run_command(std::move(argv), 30s);
  if (r.exit_code != 0) throw HarnessError("openssl failed: " + r.err);
}

// A private CA and leaf certificates it signs (EC keys: quick to make).
class TestPki {
 public:
  TestPki() {
    ca_ = path("ca.crt");
    must({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", path("ca.key"), "-out", ca_, "-days", "2", "-subj",
          "/CN=corral tls test CA"});
  }
  struct Leaf {
    std::string cert, key;
  };
  // A certificate with subject CN `cn` for the DNS names `names` (and 127.0.0.1).
  Leaf leaf(const std::string& file, const std::string& cn, const std::vector<std::string>& names) {
    Leaf l{path(file + ".crt"), path(file + ".key")};
    std::string san = "subjectAltName=IP:127.0.0.1";
    for (const auto& n : names) san += ",DNS:" + n;
    dir_.write(file + ".ext", san + "\n");
    must({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", l.key, "-out", path(file + ".csr"), "-subj", "/CN=" + cn});
    must({"openssl", "x509", "-req", "-in", path(file + ".csr"), "-CA", ca_, "-CAkey",
          path("ca.key"), "-CAcreateserial", "-out", l.cert, "-days", "2", "-extfile",
          path(file + ".ext")});
    return l;
  }
  const std::string& ca() const { return ca_; }
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string ca_;
};

struct TlsOptions {
  std::string sni;          // empty: none sent
  std::string ca;           // verify against it; empty: no verification
  int max_version = 0;      // e.g. TLS1_2_VERSION
  SSL_SESSION* session = nullptr;  // offered for resumption
  std::vector<std::string> alpn;   // offered
};

// One TLS client connection; every operation runs on a private io_context, bounded by a timeout.
class TlsClient {
 public:
  TlsClient(std::uint16_t port, const TlsOptions& o = {}, Millis timeout = 5s)
      : ctx_(ssl::context::tls_client), stream_(ioc_, ctx_), timeout_(timeout) {
    // On the SSL itself: stream_ made it already, and it copied the context's settings then.
    if (o.max_version) SSL_set_max_proto_version(stream_.native_handle(), o.max_version);
    if (!o.ca.empty()) {
      ctx_.load_verify_file(o.ca);
      stream_.set_verify_mode(ssl::verify_peer);
    }
    if (!o.sni.empty()) SSL_set_tlsext_host_name(stream_.native_handle(), o.sni.c_str());
    if (o.session) SSL_set_session(stream_.native_handle(), o.session);
    if (!o.alpn.empty()) {
      std::string wire;
      for (const auto& p : o.alpn) wire += static_cast<char>(p.size()) + p;
      SSL_set_alpn_protos(stream_.native_handle(),
                          reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
    handshake_error = run([&](auto h) {
      stream_.lowest_layer().async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                           h);
    });
    if (!handshake_error)
      handshake_error = run([&](auto h) { stream_.async_handshake(ssl::stream_base::client, h); });
  }
  TlsClient(const TlsClient&) = delete;
  // A session whose connection ended without a shutdown is marked not resumable by OpenSSL:
  // end as a client that closes cleanly does.
  ~TlsClient() { SSL_set_shutdown(stream_.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN); }

  beast::error_code handshake_error;

  bool reused() { return SSL_session_reused(stream_.native_handle()) == 1; }
  int version() { return SSL_version(stream_.native_handle()); }
  std::string alpn() {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(stream_.native_handle(), &p, &n);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
  }
  // The subject CN of the server's certificate.
  std::string peer_cn() {
    X509* cert = SSL_get1_peer_certificate(stream_.native_handle());
    if (!cert) return {};
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
  }
  // The session to offer on a next connection (caller frees with SSL_SESSION_free).
  SSL_SESSION* session() { return SSL_get1_session(stream_.native_handle()); }

  beast::error_code write(std::string_view bytes) {
    return run([&](auto h) { asio::async_write(stream_, asio::buffer(bytes), h); });
  }
  std::string read_until(std::string_view delim, beast::error_code& ec) {
    ec = run([&](auto h) { asio::async_read_until(stream_, asio::dynamic_buffer(buf_), delim, h); });
    auto end = buf_.find(delim);
    if (end == std::string::npos) return std::exchange(buf_, {});
    std::string out = buf_.substr(0, end + delim.size());
    buf_.erase(0, end + delim.size());
    return out;
  }
  std::string read_exactly(std::size_t n, beast::error_code& ec) {
    if (buf_.size() < n) {
      ec = run([&](auto h) {
        asio::async_read(stream_, asio::dynamic_buffer(buf_), asio::transfer_exactly(n - buf_.size()),
                         h);
      });
    }
    std::string out = buf_.substr(0, std::min(n, buf_.size()));
    buf_.erase(0, out.size());
    return out;
  }
  http::response<http::string_body> request(
      const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers = {},
      const std::string& host = "localhost") {
    http::request<http::string_body> req(http::verb::get, target, 11);
    req.set(http::field::host, host);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (auto ec = run([&](auto h) { http::async_write(stream_, req, h); }))
      throw HarnessError("TLS write failed: " + ec.message());
    return read_response();
  }
  http::response<http::string_body> read_response() {
    http::response<http::string_body> res;
    beast::flat_buffer fb;
    fb.commit(asio::buffer_copy(fb.prepare(buf_.size()), asio::buffer(buf_)));
    buf_.clear();
    if (auto ec = run([&](auto h) { http::async_read(stream_, fb, res, h); }))
      throw HarnessError("TLS read failed: " + ec.message());
    return res;
  }

 private:
  template <class Start>
  beast::error_code run(Start start) {
    beast::error_code result;
    bool done = false;
    start([&](beast::error_code ec, auto...) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(timeout_);
    if (!done) {
      beast::error_code ignored;
      stream_.lowest_layer().cancel(ignored);
      ioc_.restart();
      ioc_.run();
      return asio::error::timed_out;
    }
    return result;
  }

  asio::io_context ioc_;
  ssl::context ctx_;
  ssl::stream<tcp::socket> stream_;
  Millis timeout_;
  std::string buf_;
};

std::string listener(const TestPki::Leaf& l, const std::string& more = "") {
  return "{ address: \"127.0.0.1:0\", tls: { cert: \"" + l.cert + "\", key: \"" + l.key + "\"" +
         more + " } }";
}

bool has_secure(const http::response<http::string_body>& res, std::string_view cookie) {
  for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
    std::string_view v = it->value();
    if (v.starts_with(cookie)) return v.find("; Secure") != std::string_view::npos;
  }
  ADD_FAILURE() << "no " << cookie << " cookie";
  return false;
}

// What the listener tests share: a private CA and a certificate for "localhost" under it, and
// a config whose TLS listener serves it in front of the tests' backends.
class Tls : public ::testing::Test {
 protected:
  // One TLS listener on `site` (`more`: further keys of its tls: map) in front of `backends`.
  CorralConfig site_config(std::initializer_list<const Backend*> backends,
                           const std::string& more = "") {
    CorralConfig cfg;
    cfg.listen = {listener(site, more)};
    for (const Backend* b : backends) cfg.add(*b);
    return cfg;
  }

  TestPki pki;
  TestPki::Leaf site = pki.leaf("site", "site", {"localhost"});
};

TEST_F(Tls, HttpsWithTls12AndTls13AndAlpn) {
  Backend be("a");
  Corral corral(site_config({&be}));

  TlsClient v13(corral.port(), {.sni = "localhost", .ca = pki.ca(), .alpn = {"http/1.1"}});
  ASSERT_FALSE(v13.handshake_error) << v13.handshake_error.message();
  EXPECT_EQ(v13.version(), TLS1_3_VERSION);
  EXPECT_EQ(v13.alpn(), "http/1.1");
  auto res = v13.request("/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "a");
  EXPECT_EQ(v13.request("/").body(), "a");  // keep-alive over TLS

  TlsClient v12(corral.port(), {.sni = "localhost", .ca = pki.ca(), .max_version = TLS1_2_VERSION});
  ASSERT_FALSE(v12.handshake_error) << v12.handshake_error.message();
  EXPECT_EQ(v12.version(), TLS1_2_VERSION);
  EXPECT_EQ(v12.request("/").result_int(), 200);
}

TEST_F(Tls, Http2ByAlpnThroughTheSameRequestPath) {
  Backend be("a");
  CorralConfig cfg = site_config({&be});
  cfg.listen.push_back(listener(site, ", alpn: [http/1.1]"));
  Corral corral(cfg);
  {
    TlsClient c(corral.port(), {.sni = "localhost", .ca = pki.ca(), .alpn = {"h2", "http/1.1"}});
    ASSERT_FALSE(c.handshake_error) << c.handshake_error.message();
    EXPECT_EQ(c.alpn(), "h2");  // offered first by default
  }
  auto port = std::to_string(corral.port());
  auto r = run_command({"curl", "-s", "--http2", "--cacert", pki.ca(), "--resolve",
                        "localhost:" + port + ":127.0.0.1", "-w", "\n%{http_version} %{http_code}",
                        "https://localhost:" + port + "/headers"},
                       20s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto nl = r.out.rfind('\n');
  EXPECT_EQ(r.out.substr(nl + 1), "2 200");
  EXPECT_NE(r.out.find("\"x-forwarded-proto\":\"https\""), std::string::npos) << r.out;
  // A listener that offers http/1.1 only is spoken to in HTTP/1.1.
  TlsClient h1(corral.ports()[1], {.sni = "localhost", .ca = pki.ca(), .alpn = {"h2", "http/1.1"}});
  ASSERT_FALSE(h1.handshake_error);
  EXPECT_EQ(h1.alpn(), "http/1.1");
  EXPECT_EQ(h1.request("/").result_int(), 200);
}

TEST_F(Tls, MinVersion13RefusesTls12) {
  Backend be("a");
  Corral corral(site_config({&be}, ", min_version: \"1.3\""));
  TlsClient v12(corral.port(), {.ca = pki.ca(), .max_version = TLS1_2_VERSION});
  EXPECT_TRUE(v12.handshake_error);
  TlsClient v13(corral.port(), {.ca = pki.ca()});
  EXPECT_FALSE(v13.handshake_error) << v13.handshake_error.message();
}

TEST_F(Tls, SniSelectsTheCertificate) {
  auto a = pki.leaf("a", "a.test", {"a.test"});
  auto b = pki.leaf("b", "b.test", {"b.test", "*.b.test"});
  Backend be("x");
  CorralConfig cfg;
  cfg.listen = {"{ address: \"127.0.0.1:0\", tls: { certificates: [{ cert: \"" + a.cert +
                "\", key: \"" + a.key + "\" }, { cert: \"" + b.cert + "\", key: \"" + b.key +
                "\" }] } }"};
  cfg.threads = "2";
  cfg.add(be);
  Corral corral(cfg);
  for (const auto& [sni, cn] : std::vector<std::pair<std::string, std::string>>{
           {"a.test", "a.test"}, {"b.test", "b.test"}, {"www.b.test", "b.test"},
           {"other.test", "a.test"}, {"", "a.test"}}) {
    TlsClient c(corral.port(), {.sni = sni});
    ASSERT_FALSE(c.handshake_error) << sni << ": " << c.handshake_error.message();
    EXPECT_EQ(c.peer_cn(), cn) << "SNI '" << sni << "'";
    EXPECT_EQ(c.request("/", {}, sni.empty() ? "localhost" : sni).result_int(), 200);
  }
  // Verified against the CA under the name asked for: the chain is served whole.
  TlsClient verified(corral.port(), {.sni = "b.test", .ca = pki.ca()});
  EXPECT_FALSE(verified.handshake_error) << verified.handshake_error.message();
}

TEST_F(Tls, TheAppIsToldHttpsAndCorralsCookieIsSecure) {
  Backend a("a"), b("b");
  CorralConfig cfg = site_config({&a, &b});
  cfg.listen.push_back("127.0.0.1:0");
  cfg.balance = "sticky";
  cfg.extra = "sticky: { mode: insert, key: \"0123456789abcdef0123456789abcdef\" }\n";
  Corral corral(cfg);
  ASSERT_EQ(corral.ports().size(), 2u);

  TlsClient tls(corral.port(), {.ca = pki.ca()});
  ASSERT_FALSE(tls.handshake_error) << tls.handshake_error.message();
  // A client's own X-Forwarded-Proto is not believed either way.
  auto res = tls.request("/headers", {{"X-Forwarded-Proto", "http"}});
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto headers = parse_json_object(res.body()).at("headers").as_object();
  EXPECT_EQ(headers.at("x-forwarded-proto").as_string(), "https") << res.body();
  EXPECT_TRUE(has_secure(res, "corral_affinity="));

  HttpClient plain(corral.ports()[1]);
  auto pres = plain.get("/headers");
  auto pheaders = parse_json_object(pres.body()).at("headers").as_object();
  EXPECT_EQ(pheaders.at("x-forwarded-proto").as_string(), "http");
  EXPECT_FALSE(has_secure(pres, "corral_affinity="));
}

TEST_F(Tls, PlainHttpOnTheTlsPortIsAnsweredAndClosed) {
  Backend be("a");
  Corral corral(site_config({&be}));
  HttpClient client(corral.port());
  ASSERT_FALSE(client.send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto all = client.read_until_close(5s);
  EXPECT_TRUE(all.closed);
  EXPECT_FALSE(all.timed_out);
  EXPECT_EQ(raw_status(all.data), 400) << all.data;
  EXPECT_NE(all.data.find("TLS port"), std::string::npos) << all.data;
  // Other bytes that are not TLS: closed too, without an answer.
  HttpClient junk(corral.port());
  ASSERT_FALSE(junk.send_raw(std::string(64, '\x01')));
  auto rest = junk.read_until_close(5s);
  EXPECT_TRUE(rest.closed);
  EXPECT_FALSE(rest.timed_out);
  EXPECT_EQ(be.counts().seen, 0);
}

TEST_F(Tls, SilentClientIsClosedAfterTheHandshakeTimeout) {
  Backend be("a");
  CorralConfig cfg = site_config({&be});
  cfg.timeouts["handshake"] = "300ms";
  Corral corral(cfg);
  HttpClient client(corral.port());
  client.connect();
  auto all = client.read_until_close(5s);
  EXPECT_TRUE(all.closed);
  EXPECT_TRUE(all.data.empty());
}

TEST_F(Tls, SessionsResumeByTicketOnEveryThread) {
  Backend be("a");
  CorralConfig cfg = site_config({&be});
  cfg.threads = "2";
  Corral corral(cfg);
  for (int max : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    SSL_SESSION* session = nullptr;
    {
      TlsClient first(corral.port(), {.ca = pki.ca(), .max_version = max});
      ASSERT_FALSE(first.handshake_error) << first.handshake_error.message();
      EXPECT_FALSE(first.reused());
      // TLS 1.3 tickets come after the handshake: a response read makes sure they arrived.
      EXPECT_EQ(first.request("/").result_int(), 200);
      session = first.session();
    }
    ASSERT_TRUE(session);
    // Several connections: SO_REUSEPORT spreads them over both threads, which share the keys.
    for (int i = 0; i < 6; ++i) {
      TlsClient again(corral.port(), {.ca = pki.ca(), .max_version = max, .session = session});
      ASSERT_FALSE(again.handshake_error) << again.handshake_error.message();
      EXPECT_TRUE(again.reused()) << "connection " << i << ", max version " << std::hex << max;
      EXPECT_EQ(again.request("/").result_int(), 200);
    }
    SSL_SESSION_free(session);
  }
}

TEST_F(Tls, ACertificateProblemIsAConfigErrorNamingTheFile) {
  auto other = pki.leaf("other", "other", {"localhost"});
  auto check = [&](const std::string& cert, const std::string& key) {
    auto file = pki.dir().write("c.yaml", "listen:\n  - address: 127.0.0.1:0\n    tls: { cert: \"" +
                                              cert + "\", key: \"" + key +
                                              "\" }\nupstreams: [127.0.0.1:3000]\n");
    return run_command({CORRAL_BINARY, "check", "-c", file.string()});
  };
  auto missing = check(pki.path("nope.crt"), site.key);
  EXPECT_EQ(missing.exit_code, 2) << missing.out << missing.err;
  EXPECT_NE(missing.err.find(":3:10: listen[0].tls: cannot read certificate file '" +
                             pki.path("nope.crt") + "'"),
            std::string::npos)
      << missing.err;
  auto mismatched = check(site.cert, other.key);
  EXPECT_EQ(mismatched.exit_code, 2);
  EXPECT_NE(mismatched.err.find("key file '" + other.key + "' is not the private key of certificate '" +
                                site.cert + "'"),
            std::string::npos)
      << mismatched.err;
  auto not_pem = check(site.cert, pki.path("site.ext"));
  EXPECT_EQ(not_pem.exit_code, 2);
  EXPECT_NE(not_pem.err.find("key file '" + pki.path("site.ext") + "' holds no PEM private key"),
            std::string::npos)
      << not_pem.err;
  EXPECT_EQ(check(site.cert, site.key).exit_code, 0);
  // `run` refuses it the same way, before it listens.
  auto file = pki.dir().write("run.yaml", "listen:\n  - address: 127.0.0.1:0\n    tls: { cert: \"" +
                                              site.cert + "\", key: \"" + other.key +
                                              "\" }\nupstreams: [127.0.0.1:3000]\n");
  auto run = run_command({CORRAL_BINARY, "run", "-c", file.string()}, 20s);
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("is not the private key"), std::string::npos) << run.err;
}

TEST_F(Tls, ReloadServesTheNewCertificateWhileAnOldConnectionFinishes) {
  auto v1 = pki.leaf("v1", "site v1", {"localhost"});
  auto v2 = pki.leaf("v2", "site v2", {"localhost"});
  // The files the config names are replaced under it, as a certificate renewal does.
  const std::string cert = pki.path("live.crt"), key = pki.path("live.key");
  std::filesystem::copy_file(v1.cert, cert);
  std::filesystem::copy_file(v1.key, key);
  Backend be("a");
  CorralConfig cfg;
  cfg.listen = {listener({cert, key})};
  cfg.add(be);
  Corral corral(cfg);

  TlsClient old(corral.port(), {.ca = pki.ca()});
  ASSERT_FALSE(old.handshake_error) << old.handshake_error.message();
  EXPECT_EQ(old.peer_cn(), "site v1");
  EXPECT_EQ(old.request("/").result_int(), 200);
  // A request in flight on the old generation across the reload.
  ASSERT_FALSE(old.write("GET /slow?ms=2500 HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  ASSERT_TRUE(be.wait_slow_begin(5s));

  std::filesystem::copy_file(v2.cert, cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(v2.key, key, std::filesystem::copy_options::overwrite_existing);
  auto reload = run_command(
      {CORRAL_BINARY, "reload", "--config", "-c", corral.config_path().string()}, 30s);
  ASSERT_EQ(reload.exit_code, 0) << reload.out << reload.err;

  TlsClient fresh(corral.port(), {.ca = pki.ca()});
  ASSERT_FALSE(fresh.handshake_error) << fresh.handshake_error.message();
  EXPECT_EQ(fresh.peer_cn(), "site v2");
  EXPECT_EQ(fresh.request("/").result_int(), 200);

  auto slow = old.read_response();
  EXPECT_EQ(slow.result_int(), 200);
  EXPECT_EQ(slow.body(), "a");
}

TEST_F(Tls, ReloadWithAMismatchedKeyKeepsTheRunningGeneration) {
  auto v1 = pki.leaf("v1", "site v1", {"localhost"});
  auto other = pki.leaf("other", "other", {"localhost"});
  const std::string cert = pki.path("live.crt"), key = pki.path("live.key");
  std::filesystem::copy_file(v1.cert, cert);
  std::filesystem::copy_file(v1.key, key);
  Backend be("a");
  CorralConfig cfg;
  cfg.listen = {listener({cert, key})};
  cfg.add(be);
  Corral corral(cfg);
  std::filesystem::copy_file(other.key, key, std::filesystem::copy_options::overwrite_existing);
  auto reload = run_command(
      {CORRAL_BINARY, "reload", "--config", "-c", corral.config_path().string()}, 30s);
  EXPECT_NE(reload.exit_code, 0);
  EXPECT_NE((reload.out + reload.err).find("is not the private key"), std::string::npos)
      << reload.out << reload.err;
  TlsClient c(corral.port(), {.ca = pki.ca()});
  ASSERT_FALSE(c.handshake_error) << c.handshake_error.message();
  EXPECT_EQ(c.peer_cn(), "site v1");
}

TEST_F(Tls, WebSocketTunnelOverTls) {
  Backend be("ws");
  Corral corral(site_config({&be}));
  TlsClient c(corral.port(), {.ca = pki.ca()});
  ASSERT_FALSE(c.handshake_error) << c.handshake_error.message();
  ASSERT_FALSE(c.write("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n"));
  beast::error_code ec;
  std::string head = c.read_until("\r\n\r\n", ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(raw_status(head), 101) << head;
  for (int i = 0; i < 3; ++i) {
    const std::string msg = "ping " + std::to_string(i);
    ASSERT_FALSE(c.write(msg));
    EXPECT_EQ(c.read_exactly(msg.size(), ec), msg);
    ASSERT_FALSE(ec) << ec.message();
  }
  // More than the buffers hold at once, both ways at the same time.
  const std::string big = pattern_bytes(3, 1024 * 1024);
  ASSERT_FALSE(c.write(big));
  std::string back = c.read_exactly(big.size(), ec);
  ASSERT_FALSE(ec) << ec.message() << " after " << back.size() << " bytes";
  EXPECT_TRUE(back == big);
}

// An idle TLS keep-alive connection waits without its session: what it costs is OpenSSL's SSL
// and a few hundred bytes. Measured over a second batch of connections, so that what the first
// ones set up once (OpenSSL's tables, the thread's pools) is not counted.
TEST_F(Tls, AnIdleKeepAliveConnectionCostsLittleMemory) {
  Backend be("a");
  CorralConfig cfg = site_config({&be});
  cfg.timeouts["idle"] = "120s";
  cfg.limits["max_connections"] = "2000";
  Corral corral(cfg);
  constexpr int batch = 250;
  std::vector<std::unique_ptr<TlsClient>> held;
  auto open_batch = [&] {
    for (int i = 0; i < batch; ++i) {
      auto c = std::make_unique<TlsClient>(corral.port(), TlsOptions{.ca = pki.ca()});
      ASSERT_FALSE(c->handshake_error) << c->handshake_error.message();
      ASSERT_EQ(c->request("/").body(), "a");
      held.push_back(std::move(c));
    }
  };
  open_batch();
  const std::uint64_t before = group_rss_bytes(corral.process());
  open_batch();
  const std::uint64_t after = group_rss_bytes(corral.process());
  const std::uint64_t per_connection = after > before ? (after - before) / batch : 0;
  RecordProperty("idle_tls_bytes_per_connection", std::to_string(per_connection));
  // Before idle TLS connections gave back their session: about 20 KB (HAProxy: 17.7 KB).
  // A sanitizer build's allocations are larger: its pass sets its own bound.
  const std::uint64_t limit = env_u64("CORRAL_IT_IDLE_TLS_BYTES", 17 * 1024);
  EXPECT_LE(per_connection, limit) << "RSS " << before << " B -> " << after << " B over " << batch
                                   << " idle TLS connections";
  // Every connection is still served after its idle wait, with the same TLS state.
  for (std::size_t i = 0; i < held.size(); i += 50)
    EXPECT_EQ(held[i]->request("/").body(), "a") << "connection " << i;
}

TEST_F(Tls, RequestsAfterIdleWaitsAreServedOnTheSameConnection) {
  Backend be("a");
  Corral corral(site_config({&be}));
  TlsClient c(corral.port(), {.ca = pki.ca()});
  ASSERT_FALSE(c.handshake_error) << c.handshake_error.message();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(c.request("/").body(), "a") << "request " << i;
    // The connection idles between requests: its stream waits without a session.
    std::this_thread::sleep_for(50ms);
  }
  // A header longer than a read block, after an idle wait.
  auto res = c.request("/", {{"X-Filler", std::string(6000, 'x')}});
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "a");
  // Two requests in one write, after an idle wait: both answered.
  ASSERT_FALSE(c.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
                       "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  EXPECT_EQ(c.read_response().body(), "a");
  EXPECT_EQ(c.read_response().body(), "a");
  EXPECT_EQ(c.request("/").body(), "a");
  // Requests whose records end around the idle connection's first read (128 bytes), each after
  // an idle wait: read whole there, split between it and OpenSSL, or waited for, each is served.
  for (std::size_t filler : {0, 40, 60, 70, 80, 90, 100, 110, 400, 0, 3000, 0, 0, 85}) {
    std::this_thread::sleep_for(20ms);
    auto r = filler ? c.request("/", {{"X-Filler", std::string(filler, 'y')}}) : c.request("/");
    EXPECT_EQ(r.result_int(), 200) << "filler " << filler;
    EXPECT_EQ(r.body(), "a") << "filler " << filler;
  }
  // Each session after an idle wait still knows the client's address (handed on with the
  // connection, not asked of the socket again).
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(50ms);
    auto h = c.request("/headers");
    ASSERT_EQ(h.result_int(), 200) << h.body();
    auto headers = parse_json_object(h.body()).at("headers").as_object();
    EXPECT_EQ(headers.at("x-forwarded-for").as_string(), "127.0.0.1") << h.body();
  }
}

TEST_F(Tls, IdleKeepAliveConnectionClosesWithCloseNotifyAfterTheIdleTimeout) {
  Backend be("a");
  CorralConfig cfg = site_config({&be});
  cfg.timeouts["idle"] = "300ms";
  Corral corral(cfg);
  TlsClient c(corral.port(), {.ca = pki.ca()});
  ASSERT_FALSE(c.handshake_error) << c.handshake_error.message();
  EXPECT_EQ(c.request("/").body(), "a");
  const auto start = std::chrono::steady_clock::now();
  beast::error_code ec;
  std::string rest = c.read_until("never", ec);
  // eof is the server's close_notify; a close without it would be stream_truncated.
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  EXPECT_TRUE(rest.empty()) << rest;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(Tls, IdleKeepAliveConnectionClosesWithCloseNotifyOnDrain) {
  Backend be("a");
  CorralConfig cfg = site_config({&be});
  cfg.timeouts["idle"] = "60s";
  Corral corral(cfg);
  TlsClient c(corral.port(), {.ca = pki.ca()}, 8s);
  ASSERT_FALSE(c.handshake_error) << c.handshake_error.message();
  EXPECT_EQ(c.request("/").body(), "a");
  const auto start = std::chrono::steady_clock::now();
  corral.process().terminate();
  beast::error_code ec;
  std::string rest = c.read_until("never", ec);
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  auto code = corral.process().wait_exit(8s);
  ASSERT_TRUE(code) << "corral did not exit after draining";
  EXPECT_EQ(*code, 0);
}

// A backend that answers HTTPS with `leaf`.
std::unique_ptr<Process> tls_backend(const std::string& name, const TestPki::Leaf& leaf,
                                     std::uint16_t& port) {
  auto p = std::make_unique<Process>(
      std::vector<std::string>{"node", std::string(CORRAL_TEST_DATA) + "/backend.js", name, "0"},
      std::vector<std::pair<std::string, std::string>>{{"TLS_CERT", leaf.cert},
                                                       {"TLS_KEY", leaf.key}});
  auto m = p->wait_for_line(std::regex("^listening (\\d+)$"), 15s, Stream::out);
  port = static_cast<std::uint16_t>(std::stoi(m[1]));
  return p;
}

TEST(UpstreamTls, VerifiedAgainstAPrivateCa) {
  TestPki pki;
  auto up = pki.leaf("up", "upstream", {"api.internal"});
  std::uint16_t port = 0;
  auto backend = tls_backend("secure", up, port);
  CorralConfig cfg;
  cfg.upstreams.push_back({"127.0.0.1:" + std::to_string(port), 1,
                           "{ ca: \"" + pki.ca() + "\", sni: api.internal }"});
  Corral corral(cfg);
  HttpClient client(corral.port());
  for (int i = 0; i < 3; ++i) {  // the pooled TLS connection is used again
    auto res = client.get("/");
    EXPECT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(res.body(), "secure");
  }
}

TEST(UpstreamTls, AFailedVerificationIs502) {
  TestPki pki;
  TestPki stranger;  // another CA
  auto up = stranger.leaf("up", "upstream", {"api.internal"});
  std::uint16_t port = 0;
  auto backend = tls_backend("secure", up, port);
  CorralConfig cfg;
  cfg.upstreams.push_back({"127.0.0.1:" + std::to_string(port), 1,
                           "{ ca: \"" + pki.ca() + "\", sni: api.internal }"});
  Corral corral(cfg);
  HttpClient client(corral.port());
  auto res = client.get("/");
  EXPECT_EQ(res.result_int(), 502) << res.body();
  // The proxy's log reaches the test through the master: awaited, not looked up at once.
  EXPECT_TRUE(corral.process().try_wait_for_line(std::regex("TLS handshake failed"), 5s))
      << corral.process().tail();

  // The right CA but the wrong name: refused too; with verify: false, served.
  auto good = pki.leaf("good", "upstream", {"api.internal"});
  std::uint16_t port2 = 0;
  auto backend2 = tls_backend("named", good, port2);
  CorralConfig wrong;
  wrong.upstreams.push_back({"127.0.0.1:" + std::to_string(port2), 1,
                             "{ ca: \"" + pki.ca() + "\", sni: other.internal }"});
  Corral wrong_corral(wrong);
  HttpClient c2(wrong_corral.port());
  EXPECT_EQ(c2.get("/").result_int(), 502);
  CorralConfig unverified;
  unverified.upstreams.push_back({"127.0.0.1:" + std::to_string(port), 1, "{ verify: false }"});
  Corral unverified_corral(unverified);
  HttpClient c3(unverified_corral.port());
  EXPECT_EQ(c3.get("/").result_int(), 200);
}

}  // namespace
}  // namespace corral::test
