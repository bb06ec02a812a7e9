#include "proxy/tls_stream.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace corral::proxy {
namespace {

namespace ssl = boost::asio::ssl;
using namespace std::chrono_literals;

// A self-signed P-256 certificate for "localhost", made in memory once for the whole file.
struct Identity {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  Identity() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name,
                                              "DNS:localhost,IP:127.0.0.1");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert, key, EVP_sha256());
  }
  ~Identity() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

const Identity& identity() {
  static const Identity id;
  return id;
}

std::string pattern(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 31 + seed) % 251);
  return s;
}

// A connected loopback TCP pair, TLS on both ends, on one io_context (the proxy's threads run
// each connection on one thread too).
class TlsPair : public ::testing::Test {
 protected:
  TlsPair() : server_ctx_(ssl::context::tls_server), client_ctx_(ssl::context::tls_client) {
    std::signal(SIGPIPE, SIG_IGN);  // OpenSSL writes the descriptor; the proxy ignores it too
    SSL_CTX_use_certificate(server_ctx_.native_handle(), identity().cert);
    SSL_CTX_use_PrivateKey(server_ctx_.native_handle(), identity().key);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx_.native_handle()), identity().cert);
    client_ctx_.set_verify_mode(ssl::verify_peer);
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_socket_.connect(acceptor.local_endpoint());
    acceptor.accept(server_socket_);
    server_socket_.non_blocking(true);
    client_socket_.non_blocking(true);
    server_ = std::make_unique<TlsStream>(server_socket_, server_ctx_);
    client_ = std::make_unique<TlsStream>(client_socket_, client_ctx_);
  }

  // Runs the coroutines to their ends (bounded, so a hang fails instead of blocking).
  void run(std::vector<std::function<awaitable<void>()>> tasks) {
    int left = static_cast<int>(tasks.size());
    for (auto& t : tasks) {
      asio::co_spawn(io_, [&left, t]() -> awaitable<void> {
        co_await t();
        --left;
      }, asio::detached);
    }
    io_.run_for(20s);
    io_.restart();
    ASSERT_EQ(left, 0) << "coroutines still waiting";
  }

  // Both handshakes, side by side; the client checks the name `server_name`.
  void handshake(const std::string& server_name = "localhost") {
    client_->set_server_name(server_name);
    error_code server_ec, client_ec;
    run({[&]() -> awaitable<void> { server_ec = co_await server_->handshake(ssl::stream_base::server); },
         [&]() -> awaitable<void> { client_ec = co_await client_->handshake(ssl::stream_base::client); }});
    ASSERT_FALSE(server_ec) << server_ec.message();
    ASSERT_FALSE(client_ec) << client_ec.message();
  }

  // Runs the io_context until nothing is ready: every operation left is waiting on the socket.
  void settle() {
    while (io_.poll() > 0) {
    }
    io_.restart();
  }

  asio::io_context io_;
  ssl::context server_ctx_, client_ctx_;
  tcp::socket server_socket_{io_}, client_socket_{io_};
  std::unique_ptr<TlsStream> server_, client_;
};

TEST_F(TlsPair, LargeTransfersBothWaysAtOnce) {
  handshake();
  // Several MiB each way: far beyond the sockets' buffers, so each side's write waits for the
  // other's read while its own read runs beside it on the same stream.
  const std::string up = pattern(6 * 1024 * 1024 + 17, 1);
  const std::string down = pattern(5 * 1024 * 1024 + 3, 2);
  std::string got_up(up.size(), '\0'), got_down(down.size(), '\0');
  error_code ec[4];
  auto send = [](TlsStream& s, const std::string& data, error_code& out) -> awaitable<void> {
    // Gathered pieces, as an HTTP header and body come: small ones and a large one.
    std::size_t at = 0;
    while (at < data.size()) {
      const std::size_t a = std::min<std::size_t>(100, data.size() - at);
      const std::size_t b = std::min<std::size_t>(70000, data.size() - at - a);
      std::array<asio::const_buffer, 2> pieces{asio::buffer(data.data() + at, a),
                                               asio::buffer(data.data() + at + a, b)};
      auto [e, n] = co_await asio::async_write(s, pieces, nothrow);
      if (e) {
        out = e;
        co_return;
      }
      at += n;
    }
  };
  auto receive = [](TlsStream& s, std::string& into, error_code& out) -> awaitable<void> {
    auto [e, n] = co_await asio::async_read(s, asio::buffer(into), nothrow);
    out = e;
  };
  run({[&]() -> awaitable<void> { co_await send(*client_, up, ec[0]); },
       [&]() -> awaitable<void> { co_await send(*server_, down, ec[1]); },
       [&]() -> awaitable<void> { co_await receive(*server_, got_up, ec[2]); },
       [&]() -> awaitable<void> { co_await receive(*client_, got_down, ec[3]); }});
  for (auto& e : ec) EXPECT_FALSE(e) << e.message();
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
}

TEST_F(TlsPair, CloseNotifyIsEndOfFile) {
  handshake();
  error_code sent, read_ec;
  std::size_t n = 1;
  char buf[64];
  run({[&]() -> awaitable<void> {
         co_await asio::async_write(*client_, asio::buffer("last", 4), nothrow);
         sent = co_await client_->send_close_notify();
       },
       [&]() -> awaitable<void> {
         auto [e1, n1] = co_await asio::async_read(*server_, asio::buffer(buf, 4), nothrow);
         EXPECT_FALSE(e1);
         EXPECT_EQ(std::string(buf, n1), "last");
         auto [e, got] = co_await server_->async_read_some(asio::buffer(buf), nothrow);
         read_ec = e;
         n = got;
       }});
  EXPECT_FALSE(sent) << sent.message();
  EXPECT_EQ(read_ec, asio::error::eof) << read_ec.message();
  EXPECT_EQ(n, 0u);
}

TEST_F(TlsPair, APeerThatClosesWithoutCloseNotifyIsATruncatedStream) {
  handshake();
  error_code read_ec;
  char buf[64];
  // A FIN, not a reset: the client still holds unread bytes (the server's session tickets),
  // and a close would send an RST for them.
  client_socket_.shutdown(tcp::socket::shutdown_send);
  run({[&]() -> awaitable<void> {
    auto [e, n] = co_await server_->async_read_some(asio::buffer(buf), nothrow);
    read_ec = e;
  }});
  EXPECT_EQ(read_ec, ssl::error::stream_truncated) << read_ec.message();
}

TEST_F(TlsPair, APeerThatResetsIsAConnectionReset) {
  handshake();
  error_code read_ec;
  char buf[64];
  client_.reset();
  client_socket_.set_option(asio::socket_base::linger(true, 0));
  client_socket_.close();
  run({[&]() -> awaitable<void> {
    auto [e, n] = co_await server_->async_read_some(asio::buffer(buf), nothrow);
    read_ec = e;
  }});
  EXPECT_EQ(read_ec, asio::error::connection_reset) << read_ec.message();
}

TEST_F(TlsPair, CancelEndsAWaitingReadAndWriteWithOperationAborted) {
  handshake();
  // The client reads nothing: the server's write fills the sockets' buffers and waits; its read
  // waits for bytes that never come.
  const std::string big = pattern(32 * 1024 * 1024, 3);
  char buf[64];
  error_code read_ec, write_ec;
  std::size_t written = 0;
  int done = 0;
  asio::co_spawn(io_, [&]() -> awaitable<void> {
    auto [e, n] = co_await server_->async_read_some(asio::buffer(buf), nothrow);
    read_ec = e;
    ++done;
  }, asio::detached);
  asio::co_spawn(io_, [&]() -> awaitable<void> {
    auto [e, n] = co_await asio::async_write(*server_, asio::buffer(big), nothrow);
    write_ec = e;
    written = n;
    ++done;
  }, asio::detached);
  settle();
  ASSERT_EQ(done, 0);
  server_socket_.cancel();
  io_.run_for(5s);
  EXPECT_EQ(done, 2);
  EXPECT_EQ(read_ec, asio::error::operation_aborted) << read_ec.message();
  EXPECT_EQ(write_ec, asio::error::operation_aborted) << write_ec.message();
  EXPECT_LT(written, big.size());
}

TEST_F(TlsPair, AClosedSocketIsNeitherReadNorWritten) {
  handshake();
  server_socket_.close();
  error_code read_ec, write_ec;
  char buf[64];
  run({[&]() -> awaitable<void> {
    auto [e, n] = co_await server_->async_read_some(asio::buffer(buf), nothrow);
    read_ec = e;
    auto [we, wn] = co_await server_->async_write_some(asio::buffer("x", 1), nothrow);
    write_ec = we;
  }});
  EXPECT_EQ(read_ec, asio::error::bad_descriptor);
  EXPECT_EQ(write_ec, asio::error::bad_descriptor);
}

TEST_F(TlsPair, TheClientChecksTheServersName) {
  client_->set_server_name("other.test");
  error_code server_ec, client_ec;
  run({[&]() -> awaitable<void> { server_ec = co_await server_->handshake(ssl::stream_base::server); },
       [&]() -> awaitable<void> { client_ec = co_await client_->handshake(ssl::stream_base::client); }});
  ASSERT_TRUE(client_ec);
  EXPECT_EQ(client_ec.category(), asio::error::get_ssl_category());
  EXPECT_EQ(ERR_GET_REASON(static_cast<unsigned long>(client_ec.value())),
            SSL_R_CERTIFICATE_VERIFY_FAILED);
  EXPECT_TRUE(server_ec);
}

TEST_F(TlsPair, AnAddressIsCheckedButNotSentAsSni) {
  std::string seen = "unset";
  SSL_CTX_set_tlsext_servername_callback(server_ctx_.native_handle(),
                                         +[](SSL* s, int*, void* arg) {
                                           const char* name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
                                           *static_cast<std::string*>(arg) = name ? name : "";
                                           return SSL_TLSEXT_ERR_OK;
                                         });
  SSL_CTX_set_tlsext_servername_arg(server_ctx_.native_handle(), &seen);
  handshake("127.0.0.1");
  EXPECT_EQ(seen, "");
}

}  // namespace
}  // namespace corral::proxy
