#include "proxy/h2/h1_translation.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/format.h>

namespace corral::proxy::h2 {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Whether the comma-separated `list` names `token` (case-insensitive).
bool names(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string to_http1_request(const RequestHead& head, bool body_follows, bool* chunked) {
  std::string out;
  to_http1_request(head, body_follows, chunked, out);
  return out;
}

void to_http1_request(const RequestHead& head, bool body_follows, bool* chunked,
                      std::string& out) {
  out.reserve(out.size() + head.list_bytes + 64);
  out.append(head.method).append(" ").append(head.path).append(" HTTP/1.1\r\n");
  std::string_view host = head.authority;
  for (const auto& f : head.fields)
    if (host.empty() && f.name == "host") host = f.value;
  if (!host.empty()) out.append("host: ").append(host).append("\r\n");
  bool cookie_done = false;
  for (const auto& f : head.fields) {
    if (f.name == "host" || f.name == "te" || f.name == "expect") continue;
    if (f.name == "cookie") {
      if (cookie_done) continue;
      cookie_done = true;
      out.append("cookie: ");
      bool first = true;
      for (const auto& c : head.fields) {
        if (c.name != "cookie") continue;
        if (!first) out.append("; ");
        out.append(c.value);
        first = false;
      }
      out.append("\r\n");
      continue;
    }
    out.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  *chunked = body_follows && !head.has_content_length;
  if (*chunked) out.append("transfer-encoding: chunked\r\n");
  out.append("\r\n");
}

bool connection_specific(boost::beast::http::field f, std::string_view name,
                         std::string_view connection) {
  namespace http = boost::beast::http;
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::transfer_encoding:
    case http::field::upgrade:
      return true;
    default:
      return !connection.empty() && names(connection, name);
  }
}

std::vector<Field> to_h2_response(const boost::beast::http::fields& h) {
  namespace http = boost::beast::http;
  std::string_view connection;
  if (auto it = h.find(http::field::connection); it != h.end()) connection = it->value();
  std::vector<Field> out;
  for (const auto& f : h) {
    std::string_view name = f.name_string();
    if (connection_specific(f.name(), name, connection)) continue;
    Field o;
    o.name.resize(name.size());
    std::transform(name.begin(), name.end(), o.name.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    o.value = std::string(f.value());
    out.push_back(std::move(o));
  }
  return out;
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  fmt::format_to(std::back_inserter(out), "{:x}\r\n", data.size());
  out.append(data).append("\r\n");
}

}  // namespace corral::proxy::h2
