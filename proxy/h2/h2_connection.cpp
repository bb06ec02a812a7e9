#include "proxy/h2/h2_connection.hpp"

#include <algorithm>
#include <cstring>

#include <nghttp2/nghttp2.h>

namespace corral::proxy::h2 {

struct Connection::Stream {
  RequestHead head;
  bool too_large = false;  // the header list passed the limit: answered 431, fields not kept
  bool request_seen = false;
  std::string body;        // response bytes queued, not yet framed
  std::size_t body_taken = 0;
  bool body_last = false;
  bool responding = false;
};

struct Connection::HeaderList {
  std::vector<nghttp2_nv> items;
};

namespace {

std::string_view view(const uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

nghttp2_nv nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

struct Callbacks {
  static Connection& self(void* p) { return *static_cast<Connection*>(p); }

  static Connection::Stream* stream(Connection& c, std::int32_t id) {
    auto it = c.streams_.find(id);
    return it == c.streams_.end() ? nullptr : it->second.get();
  }

  static int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    self(p).streams_.emplace(frame->hd.stream_id, std::make_unique<Connection::Stream>());
    return 0;
  }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* p) {
    auto& c = self(p);
    auto* s = stream(c, frame->hd.stream_id);
    if (!s || frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
      return 0;  // trailers are not forwarded
    s->head.list_bytes += namelen + valuelen + 32;
    if (s->head.list_bytes > c.limits_.max_header_list_bytes) {
      if (!s->too_large) {
        s->too_large = true;
        s->head.fields.clear();
        s->head.fields.shrink_to_fit();
      }
      return 0;
    }
    auto n = view(name, namelen);
    auto v = view(value, valuelen);
    auto& h = s->head;
    if (n == ":method") h.method = v;
    else if (n == ":scheme") h.scheme = v;
    else if (n == ":authority") h.authority = v;
    else if (n == ":path") h.path = v;
    else if (!n.empty() && n.front() != ':') {
      if (n == "content-length") h.has_content_length = true;
      h.fields.push_back({std::string(n), std::string(v)});
    }
    return 0;
  }

  static int frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    auto& c = self(p);
    const bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        auto* s = stream(c, frame->hd.stream_id);
        if (!s) return 0;
        if (s->request_seen) {  // trailers
          if (end) c.events_.on_body(frame->hd.stream_id, {}, true);
          return 0;
        }
        s->request_seen = true;
        if (s->too_large) {
          static const std::vector<Field> none;
          c.respond(frame->hd.stream_id, 431, none, true);
          return 0;
        }
        c.events_.on_request(frame->hd.stream_id, std::move(s->head), end);
        return 0;
      }
      case NGHTTP2_DATA: {
        auto* s = stream(c, frame->hd.stream_id);
        if (s && end && s->request_seen && !s->too_large)
          c.events_.on_body(frame->hd.stream_id, {}, true);
        return 0;
      }
      default:
        return 0;
    }
  }

  static int data_chunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                        size_t len, void* p) {
    auto& c = self(p);
    auto* s = stream(c, id);
    if (!s || s->too_large || !s->request_seen) {
      nghttp2_session_consume(session, id, len);  // nobody reads it: keep the window open
      return 0;
    }
    c.events_.on_body(id, view(data, len), false);
    return 0;
  }

  static int stream_close(nghttp2_session*, int32_t id, uint32_t error_code, void* p) {
    auto& c = self(p);
    auto it = c.streams_.find(id);
    if (it == c.streams_.end()) return 0;
    const bool told = it->second->request_seen && !it->second->too_large;
    c.streams_.erase(it);
    if (told) c.events_.on_closed(id, error_code);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source*, void* p) {
    auto& c = self(p);
    auto* s = stream(c, id);
    if (!s) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    std::size_t n = std::min(length, s->body.size() - s->body_taken);
    std::memcpy(buf, s->body.data() + s->body_taken, n);
    s->body_taken += n;
    if (s->body_taken == s->body.size()) {
      s->body.clear();
      s->body_taken = 0;
      if (s->body_last) *flags |= NGHTTP2_DATA_FLAG_EOF;
      else if (n == 0) return NGHTTP2_ERR_DEFERRED;
    }
    if (n) c.events_.on_sent(id);
    return static_cast<ssize_t>(n);
  }
};

Connection::Connection(Events& events, const Limits& limits)
    : events_(events), limits_(limits), nva_(std::make_unique<HeaderList>()) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Callbacks::stream_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_continuations(opt, limits_.max_continuations);
  nghttp2_option_set_stream_reset_rate_limit(opt, limits_.reset_burst, limits_.reset_rate);
  nghttp2_session_server_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);

  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.max_header_list_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  const std::int32_t default_window = NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE;
  if (static_cast<std::int32_t>(limits_.connection_window) > default_window)
    nghttp2_submit_window_update(session_, NGHTTP2_FLAG_NONE, 0,
                                 static_cast<std::int32_t>(limits_.connection_window) - default_window);
}

Connection::~Connection() { nghttp2_session_del(session_); }

bool Connection::receive(std::string_view bytes) {
  auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                    bytes.size());
  return n >= 0 && static_cast<std::size_t>(n) == bytes.size();
}

std::string_view Connection::output() {
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  for (;;) {
    const uint8_t* data = nullptr;
    auto n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) break;
    out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  return std::string_view(out_).substr(out_sent_);
}

void Connection::sent(std::size_t n) { out_sent_ = std::min(out_.size(), out_sent_ + n); }

void Connection::respond(std::int32_t id, unsigned status, const std::vector<Field>& fields,
                         bool end_stream) {
  std::vector<FieldView> views;
  views.reserve(fields.size());
  for (const auto& f : fields) views.push_back({f.name, f.value});
  respond_in_place(id, status, views, end_stream);
}

void Connection::respond_in_place(std::int32_t id, unsigned status,
                                  std::span<const FieldView> fields, bool end_stream) {
  auto* s = Callbacks::stream(*this, id);
  if (!s || s->responding) return;
  s->responding = true;
  status %= 1000;  // three digits, without snprintf's cost on every response
  const char status_text[3] = {static_cast<char>('0' + status / 100),
                               static_cast<char>('0' + status / 10 % 10),
                               static_cast<char>('0' + status % 10)};
  auto& nva = nva_->items;
  nva.clear();
  nva.push_back(nv(":status", std::string_view(status_text, 3)));
  for (const auto& f : fields) nva.push_back(nv(f.name, f.value));
  if (end_stream) {
    nghttp2_submit_response(session_, id, nva.data(), nva.size(), nullptr);
    return;
  }
  nghttp2_data_provider provider{};
  provider.read_callback = &Callbacks::read_body;
  nghttp2_submit_response(session_, id, nva.data(), nva.size(), &provider);
}

void Connection::send_body(std::int32_t id, std::string_view data, bool last) {
  auto* s = Callbacks::stream(*this, id);
  if (!s || !s->responding) return;
  s->body.append(data);
  s->body_last = s->body_last || last;
  nghttp2_session_resume_data(session_, id);
}

std::size_t Connection::queued(std::int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? 0 : it->second->body.size() - it->second->body_taken;
}

void Connection::reset(std::int32_t id, std::uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error_code);
}

void Connection::consume(std::int32_t id, std::size_t n) {
  if (n) nghttp2_session_consume(session_, id, n);
}

void Connection::go_away() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

bool Connection::finished() const {
  return !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_) &&
         out_sent_ == out_.size();
}

}  // namespace corral::proxy::h2
