#include "session/redis_tls_bridge.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>

namespace corral::session {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using error_code = boost::system::error_code;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
}

// One hiredis connection's relay: the local end hiredis talks to, the TLS stream to Redis.
struct RedisTlsBridge::Relay : std::enable_shared_from_this<Relay> {
  Relay(asio::io_context& ioc, ssl::context& tls) : local_side(ioc), remote(ioc, tls), timer(ioc) {}

  void close() {
    if (closed) return;
    closed = true;
    error_code ec;
    timer.cancel();
    local_side.close(ec);
    remote.next_layer().close(ec);
  }

  template <class From, class To>
  asio::awaitable<void> pump(From& from, To& to) {
    std::array<char, 16 * 1024> buf;
    for (;;) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), nothrow);
      if (ec) break;
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), nothrow);
      if (wec) break;
    }
    close();  // either side gone: so is the other, and hiredis reconnects
  }

  local::socket local_side;
  ssl::stream<tcp::socket> remote;
  asio::steady_timer timer;
  bool closed = false;
};

RedisTlsBridge::RedisTlsBridge(asio::io_context& ioc, const config::RedisTarget& target,
                               std::string connect_host, std::chrono::milliseconds connect_timeout)
    : ioc_(ioc),
      target_(target),
      connect_host_(std::move(connect_host)),
      connect_timeout_(connect_timeout),
      tls_(ssl::context::tls_client),
      acceptor_(ioc) {}

RedisTlsBridge::~RedisTlsBridge() {
  if (relay_) relay_->close();
  remove_socket();
}

bool RedisTlsBridge::open(std::string& error) {
  error_code ec;
  tls_.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                   ssl::context::no_tlsv1_1);
  if (target_.tls_insecure_skip_verify) {
    tls_.set_verify_mode(ssl::verify_none);
  } else {
    if (!target_.tls_ca.empty())
      tls_.load_verify_file(target_.tls_ca, ec);
    else
      tls_.set_default_verify_paths(ec);
    if (ec) {
      error = "cannot load the CA file '" + target_.tls_ca + "': " + ec.message();
      return false;
    }
    tls_.set_verify_mode(ssl::verify_peer);
  }

  return true;
}

// The socket exists only from just before hiredis connects until the bridge accepted: a proxy
// killed in between leaves nothing behind but in that window.
bool RedisTlsBridge::listen_once(std::string& error) {
  remove_socket();
  std::string templ = (std::filesystem::temp_directory_path() / "corral-redis-XXXXXX").string();
  if (!::mkdtemp(templ.data())) {
    error = "cannot create a private directory for the TLS bridge";
    return false;
  }
  dir_ = templ;
  path_ = dir_ + "/redis.sock";
  error_code ec;
  acceptor_.open(local(), ec);
  if (!ec) acceptor_.bind(local::endpoint(path_), ec);
  if (!ec) acceptor_.listen(1, ec);
  if (ec) {
    error = "cannot listen on " + path_ + ": " + ec.message();
    remove_socket();
    return false;
  }
  return true;
}

void RedisTlsBridge::remove_socket() {
  error_code ignored;
  acceptor_.close(ignored);  // cancels an accept left over from a connect that timed out
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
  path_.clear();
  dir_.clear();
}

void RedisTlsBridge::failed(const std::string& what) {
  if (what == last_error_) return;
  last_error_ = what;
  spdlog::warn("session store: {}", what);
}

bool RedisTlsBridge::expect_connection(std::string& error) {
  if (relay_) relay_->close();
  if (!listen_once(error)) return false;
  relay_ = std::make_shared<Relay>(ioc_, tls_);
  auto relay = relay_;
  // Deadline for accept + TCP connect + TLS handshake; the relay itself has none.
  relay->timer.expires_after(connect_timeout_);
  relay->timer.async_wait([relay](const error_code& ec) {
    if (!ec) relay->close();
  });
  asio::co_spawn(
      ioc_,
      [this, relay]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto [aec, accepted] = co_await acceptor_.async_accept(nothrow);
        if (aec) co_return;  // cancelled: the socket is someone else's business now
        remove_socket();
        if (relay->closed) co_return;
        relay->local_side = std::move(accepted);
        error_code ec;
        auto address = asio::ip::make_address(connect_host_, ec);
        if (ec) {
          relay->close();
          co_return;
        }
        auto [cec] = co_await relay->remote.next_layer().async_connect(
            tcp::endpoint(address, target_.port), nothrow);
        if (cec || relay->closed) {
          if (!relay->closed) failed("connect failed: " + cec.message());
          relay->close();
          co_return;
        }
        relay->remote.next_layer().set_option(tcp::no_delay(true), ec);
        if (!target_.tls_insecure_skip_verify) {
          relay->remote.set_verify_callback(ssl::host_name_verification(target_.host));
          asio::ip::make_address(target_.host, ec);
          if (ec)
            SSL_set_tlsext_host_name(relay->remote.native_handle(), target_.host.c_str());  // SNI
        }
        auto [hec] = co_await relay->remote.async_handshake(ssl::stream_base::client, nothrow);
        if (hec || relay->closed) {
          if (!relay->closed) failed("TLS handshake with Redis failed: " + hec.message());
          relay->close();
          co_return;
        }
        relay->timer.cancel();
        last_error_.clear();
        co_await (relay->pump(relay->local_side, relay->remote) &&
                  relay->pump(relay->remote, relay->local_side));
      },
      asio::detached);
  return true;
}

}  // namespace corral::session
