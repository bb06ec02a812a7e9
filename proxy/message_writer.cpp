#include "proxy/message_writer.hpp"

#include <cstring>

namespace corral::proxy {

namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";

char* put(char* out, std::string_view s) {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

// "HTTP/1.1": Beast keeps the version as 10 * major + minor.
constexpr std::size_t version_size = 8;
char* put_version(char* out, unsigned version) {
  out = put(out, "HTTP/");
  *out++ = static_cast<char>('0' + (version / 10) % 10);
  *out++ = '.';
  *out++ = static_cast<char>('0' + version % 10);
  return out;
}

std::size_t fields_size(const Fields& fields) {
  std::size_t n = crlf.size();  // the blank line
  for (const auto& f : fields) n += f.name_string().size() + 2 + f.value().size() + 2;
  return n;
}

char* put_fields(char* out, const Fields& fields) {
  for (const auto& f : fields) {
    out = put(out, f.name_string());
    *out++ = ':';
    *out++ = ' ';
    out = put(out, f.value());
    out = put(out, crlf);
  }
  return put(out, crlf);
}

}  // namespace

std::size_t head_size(const RequestHeader& h) {
  return h.method_string().size() + 1 + h.target().size() + 1 + version_size + 2 +
         fields_size(h);
}

char* write_head(const RequestHeader& h, char* out) {
  out = put(out, h.method_string());
  *out++ = ' ';
  out = put(out, h.target());
  *out++ = ' ';
  out = put_version(out, h.version());
  out = put(out, crlf);
  return put_fields(out, h);
}

std::size_t head_size(const ResponseHeader& h) {
  return version_size + 5 + h.reason().size() + 2 + fields_size(h);
}

char* write_head(const ResponseHeader& h, char* out) {
  out = put_version(out, h.version());
  const unsigned status = h.result_int() % 1000;
  *out++ = ' ';
  *out++ = static_cast<char>('0' + status / 100);
  *out++ = static_cast<char>('0' + status / 10 % 10);
  *out++ = static_cast<char>('0' + status % 10);
  *out++ = ' ';
  out = put(out, h.reason());
  out = put(out, crlf);
  return put_fields(out, h);
}

std::span<const asio::const_buffer> MessageWriter::next(const char* data, std::size_t size,
                                                        bool last) {
  std::size_t n = 0;
  if (!head_sent_) {
    buffers_[n++] = asio::buffer(head_.data(), head_.size());
    head_sent_ = true;
  }
  if (!bodyless_) {
    if (chunked_) {
      if (size > 0) {
        static constexpr char digits[] = "0123456789abcdef";
        char* end = size_line_ + sizeof size_line_;
        char* p = end;
        *--p = '\n';
        *--p = '\r';
        for (std::size_t v = size; v; v >>= 4) *--p = digits[v & 15];
        buffers_[n++] = asio::buffer(p, static_cast<std::size_t>(end - p));
        buffers_[n++] = asio::buffer(data, size);
        buffers_[n++] = asio::buffer(crlf.data(), crlf.size());
      }
      if (last) buffers_[n++] = asio::buffer(last_chunk.data(), last_chunk.size());
    } else if (size > 0) {
      buffers_[n++] = asio::buffer(data, size);
    }
  }
  return {buffers_.data(), n};
}

}  // namespace corral::proxy
