#pragma once
// A stream's HTTP/1.1 response, parsed where it lies (the pipe's bytes) straight into the
// HTTP/2 codec: the head's fields become the HEADERS frame's list without being stored
// (connection-specific ones left out), body bytes, de-chunked, are queued on the stream as
// they are parsed. Interim (1xx) heads are not relayed: the owner starts a new reader after one.
#include <cstdint>
#include <string_view>
#include <span>
#include <vector>

#include <boost/beast/http/basic_parser.hpp>

#include "proxy/h2/h1_translation.hpp"
#include "proxy/h2/h2_connection.hpp"

namespace corral::proxy::h2 {

// Where a head's fields are gathered while it is parsed; one serves all the streams of a
// connection, since a head is parsed and handed on within one `put`.
struct HeadScratch {
  std::vector<FieldView> fields;
  std::vector<boost::beast::http::field> kinds;
};

class ResponseReader : public boost::beast::http::basic_parser<false> {
 public:
  using field = boost::beast::http::field;
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;  // Beast's, which its hooks take
  ResponseReader(Connection& codec, std::int32_t stream, HeadScratch& scratch)
      : codec_(codec), stream_(stream), scratch_(scratch) {}

  // A final (not 1xx) head was handed to the codec.
  bool responded() const { return responded_; }
  // The head parsed was an interim one, and the message is complete.
  bool interim() const { return status_ < 200 && is_done(); }

 private:
  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override {
    status_ = static_cast<unsigned>(code);
    scratch_.fields.clear();
    scratch_.kinds.clear();
    connection_ = {};
  }
  void on_field_impl(field name, string_view name_string, string_view value,
                     error_code&) override {
    if (status_ < 200) return;
    if (name == field::connection) connection_ = std::string_view(value);
    scratch_.fields.push_back({std::string_view(name_string), std::string_view(value)});
    scratch_.kinds.push_back(name);
  }
  void on_header_impl(error_code&) override {
    if (status_ < 200) return;
    // Filtered in place, now that Connection (which may name fields before it) is known.
    auto& fields = scratch_.fields;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (!connection_specific(scratch_.kinds[i], fields[i].name, connection_))
        fields[kept++] = fields[i];
    fields.resize(kept);
    responded_ = true;
    has_body_ = !is_done();
    codec_.respond_in_place(stream_, status_, fields, !has_body_);
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code&) override {
    codec_.send_body(stream_, std::string_view(body), false);
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    codec_.send_body(stream_, std::string_view(body), false);
    return body.size();
  }
  void on_finish_impl(error_code&) override {
    // A head without body ended the stream with it; otherwise an empty last DATA frame.
    if (responded_ && has_body_) codec_.send_body(stream_, {}, true);
  }

  Connection& codec_;
  std::int32_t stream_;
  HeadScratch& scratch_;
  std::string_view connection_;
  unsigned status_ = 0;
  bool responded_ = false;
  bool has_body_ = false;
};

}  // namespace corral::proxy::h2
