#pragma once
// The HTTP/2 client of the h2 unit tests: nghttp2's own client session, with what it received
// per stream, driven in memory (the codec tests) or over a socket (`talk`, the front end tests).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nghttp2/nghttp2.h>

namespace corral::proxy::h2::test {

struct Client {
  struct Resp {
    std::map<std::string, std::string> headers;
    std::string body;
    bool closed = false;
    std::uint32_t error = 0;
  };

  // The `:scheme` and `:authority` of every request.
  explicit Client(std::string scheme = "https", std::string authority = "example.com")
      : scheme_(std::move(scheme)), authority_(std::move(authority)) {
    nghttp2_session_callbacks* cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
               const uint8_t* v, size_t vl, uint8_t, void* p) {
          static_cast<Client*>(p)->responses[f->hd.stream_id].headers[std::string((const char*)n, nl)] =
              std::string((const char*)v, vl);
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cb, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t l, void* p) {
          static_cast<Client*>(p)->responses[id].body.append((const char*)d, l);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cb, [](nghttp2_session*, int32_t id, uint32_t code, void* p) {
          auto& r = static_cast<Client*>(p)->responses[id];
          r.closed = true;
          r.error = code;
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cb, [](nghttp2_session* s, const nghttp2_frame* f, void* p) {
          auto* c = static_cast<Client*>(p);
          if (f->hd.type == NGHTTP2_GOAWAY) {
            c->goaway = true;
            c->goaway_code = f->goaway.error_code;
          }
          if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK))
            c->peer_max_streams = nghttp2_session_get_remote_settings(
                s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
          return 0;
        });
    nghttp2_session_client_new(&session, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() { nghttp2_session_del(session); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Submits a request; returns its stream id. `body`: a request body follows (see BodySource).
  std::int32_t request(std::string method, std::string path,
                       std::vector<std::pair<std::string, std::string>> extra = {},
                       nghttp2_data_provider* body = nullptr) {
    std::vector<std::pair<std::string, std::string>> h = {
        {":method", method}, {":scheme", scheme_}, {":authority", authority_}, {":path", path}};
    h.insert(h.end(), extra.begin(), extra.end());
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : h)
      nva.push_back({(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(),
                     NGHTTP2_NV_FLAG_NONE});
    return nghttp2_submit_request(session, nullptr, nva.data(), nva.size(), body, nullptr);
  }
  std::int32_t get(std::string path, std::vector<std::pair<std::string, std::string>> extra = {}) {
    return request("GET", std::move(path), std::move(extra));
  }

  // What the client has to send now.
  std::string take_output() {
    std::string out;
    const uint8_t* data;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session, &data)) > 0) out.append((const char*)data, n);
    return out;
  }

  // Talks over `s` (a connected socket) until `done()` or the connection ends.
  template <typename Socket, typename Done>
  boost::asio::awaitable<void> talk(Socket& s, Done done) {
    namespace asio = boost::asio;
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    std::array<char, 16384> buf;
    for (;;) {
      std::string out = take_output();
      if (!out.empty()) co_await asio::async_write(s, asio::buffer(out), nothrow);
      if (done()) co_return;
      auto [ec, got] = co_await s.async_read_some(asio::buffer(buf), nothrow);
      if (ec) co_return;
      nghttp2_session_mem_recv(session, (const uint8_t*)buf.data(), got);
    }
  }

  nghttp2_session* session = nullptr;
  std::map<std::int32_t, Resp> responses;
  bool goaway = false;
  std::uint32_t goaway_code = 0;
  std::uint32_t peer_max_streams = 0;

 private:
  std::string scheme_, authority_;
};

// A request body for the client, read from a string that outlives it.
struct BodySource {
  explicit BodySource(const std::string& b) : body(b) {}
  const std::string& body;
  std::size_t off = 0;
  nghttp2_data_provider provider() {
    nghttp2_data_provider p;
    p.source.ptr = this;
    p.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                         nghttp2_data_source* s, void*) -> ssize_t {
      auto* x = static_cast<BodySource*>(s->ptr);
      size_t n = std::min(len, x->body.size() - x->off);
      std::memcpy(buf, x->body.data() + x->off, n);
      x->off += n;
      if (x->off == x->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    };
    return p;
  }
};

}  // namespace corral::proxy::h2::test
