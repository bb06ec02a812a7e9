// libFuzzer target: arbitrary bytes as a request, read the way the proxy reads one (screen the
// raw header, parse it with Beast, check the parsed header, rewrite it, stream the body).
// Besides "does not crash", it traps when the guard lets through a header whose framing Beast
// reads differently from the header's own words, or when the rewrite leaves a hop-by-hop or
// internal header behind or touches the framing headers.
#ifndef BOOST_ENABLE_ASSERT_HANDLER
#error "build with -DBOOST_ENABLE_ASSERT_HANDLER for every file (see tests/fuzz/README.md)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include "config/cidr.hpp"
#include "proxy/client_address.hpp"
#include "proxy/header_rewrite.hpp"
#include "proxy/request_guard.hpp"
#include "session/cookie.hpp"

namespace boost {

// Beast 1.81 asserts `n >= 5` when the final chunk "0\r\n" and one more byte arrive in
// separate put() calls, although the code after the assertion handles that case (fixed upstream
// in boostorg/beast#2861). Only that assertion is ignored; every other one still aborts.
void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(function, "parse_chunk_header") != nullptr)
    return;
  std::fprintf(stderr, "%s:%ld: %s: assertion failed: %s\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function,
                          char const* file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: assertion failed: %s (%s)\n", file, line, function, expr, msg);
  std::abort();
}

}  // namespace boost

namespace {

namespace http = boost::beast::http;
namespace net = boost::asio;
using corral::proxy::Rejection;

void require(bool condition) {
  if (!condition) __builtin_trap();
}

void require_answerable(const Rejection& r) {
  require(!r.message.empty());
  const auto s = r.status;
  require(s == http::status::bad_request || s == http::status::payload_too_large ||
          s == http::status::request_header_fields_too_large ||
          s == http::status::request_timeout);
}

bool starts_with_internal(std::string_view name) {
  constexpr std::string_view prefix = "x-corral-";
  if (name.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The header was accepted: Beast's framing must be the one the fields announce, or the
// upstream (which reads the fields) and corral (which reads Beast's framing) would split the
// stream at different places.
void check_framing(const http::request_parser<http::empty_body, corral::proxy::FieldAllocator<char>>& p) {
  const auto& h = p.get();
  const auto te = h.count(http::field::transfer_encoding);
  const auto cl = h.count(http::field::content_length);
  require(te <= 1 && cl <= 1 && !(te && cl));
  require(p.chunked() == (te == 1));
  require(p.content_length().has_value() == (cl == 1));
}

void check_rewrite(const corral::proxy::RequestHeader& accepted) {
  for (bool upgrade : {false, true}) {
    corral::proxy::Fields f = accepted;  // the header's fields, copied as the proxy would forward them
    const auto te = f.count(http::field::transfer_encoding);
    const auto cl = f.count(http::field::content_length);
    const auto host = f.count(http::field::host);
    const corral::proxy::ForwardContext ctx{.client_ip = "192.0.2.1", .tls = upgrade, .request_id = "fuzz-id"};
    corral::proxy::rewrite_request(f, ctx, upgrade);
    require(f.count(http::field::transfer_encoding) == te);
    require(f.count(http::field::content_length) == cl);
    require(f.count(http::field::host) == host);
    require(f.count(http::field::keep_alive) == 0 && f.count(http::field::te) == 0);
    require(f.count(http::field::connection) == (upgrade ? 1u : 0u));
    require(f.count("X-Forwarded-For") == 1 && f.count("X-Forwarded-Proto") == 1);
    require(!corral::proxy::request_id_of(f).empty());
    for (const auto& field : f) require(!starts_with_internal(field.name_string()));

    corral::proxy::rewrite_response(f, upgrade);
    require(f.count(http::field::connection) == (upgrade ? 1u : 0u));
  }
  for (const auto& field : accepted) {
    if (field.name() == http::field::cookie) (void)corral::session::find_cookie(field.value(), "sid");
  }
}

// X-Forwarded-For from a trusted peer: the answer is the peer or one entry of the header, and
// always an address.
void check_forwarded(const corral::proxy::RequestHeader& accepted) {
  static const std::vector<corral::config::Cidr> trusted = [] {
    std::vector<corral::config::Cidr> t;
    for (const char* text : {"127.0.0.0/8", "::1", "10.0.0.0/8", "fd00::/8"})
      t.push_back(*corral::config::parse_cidr(text));
    return t;
  }();
  constexpr std::string_view peer = "127.0.0.1";
  for (bool peer_trusted : {false, true}) {
    const auto client = corral::proxy::client_address(accepted, peer, peer_trusted, trusted);
    require(corral::config::parse_ip(client).has_value());
    if (!peer_trusted) require(client == peer);
  }
  (void)corral::proxy::forwarded_https(accepted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks how many bytes arrive per read, so partial headers get screened too.
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view raw{reinterpret_cast<const char*>(data + 1), size - 1};
  (void)corral::session::parse_set_cookie(raw, 1'700'000'000);
  if (auto range = corral::config::parse_cidr(raw.substr(0, 64))) {
    require(range->prefix <= 128);
    require(range->contains(range->network));
  }

  http::request_parser<http::empty_body, corral::proxy::FieldAllocator<char>> header_parser;
  header_parser.header_limit(8 * 1024);
  header_parser.body_limit(64 * 1024);
  boost::system::error_code ec;
  std::size_t received = 0;  // bytes the proxy has read from the socket
  std::size_t consumed = 0;  // bytes the parser has taken
  while (!header_parser.is_header_done()) {
    if (received == raw.size()) return 0;  // the client stopped mid-header
    received = std::min(raw.size(), received + step);
    const auto buffered = raw.substr(consumed, received - consumed);
    if (auto r = corral::proxy::screen_raw_header(buffered)) {
      require_answerable(*r);
      return 0;
    }
    consumed += header_parser.put(net::buffer(buffered.data(), buffered.size()), ec);
    if (ec == http::error::need_more) {
      ec = {};
      continue;
    }
    if (ec) {
      require_answerable(corral::proxy::rejection_for_parse_error(ec));
      return 0;
    }
  }
  if (auto r = corral::proxy::check_request_header(header_parser.get())) {
    require_answerable(*r);
    return 0;
  }
  check_framing(header_parser);
  check_rewrite(header_parser.get());
  check_forwarded(header_parser.get());

  http::request_parser<http::buffer_body, corral::proxy::FieldAllocator<char>> body_parser{std::move(header_parser)};
  char chunk[512];
  while (!body_parser.is_done()) {
    if (consumed == received) {
      if (received == raw.size()) return 0;  // the client stopped mid-body
      received = std::min(raw.size(), received + step);
    }
    body_parser.get().body().data = chunk;
    body_parser.get().body().size = sizeof chunk;
    consumed += body_parser.put(net::buffer(raw.data() + consumed, received - consumed), ec);
    if (ec == http::error::need_buffer) {
      ec = {};
      continue;
    }
    if (ec == http::error::need_more) {
      ec = {};
      if (received == raw.size()) return 0;
      received = std::min(raw.size(), received + step);
      continue;
    }
    if (ec) {
      require_answerable(corral::proxy::rejection_for_parse_error(ec));
      return 0;
    }
  }
  return 0;
}
