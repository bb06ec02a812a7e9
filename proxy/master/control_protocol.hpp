#pragma once
// What the CLI and the master say over the control socket: one JSON request line, then reply
// lines until a final one.
//   request   {"command":"status"}  {"command":"reload"}  {"command":"reload","config":true}
//             {"command":"restart","slot":1}  {"command":"broadcast","message":{...}}
//             {"command":"send","slot":0,"message":{...}}  {"command":"stop"}
//   progress  {"progress":"slot 0: replacement pid 4242 ready"}          (any number)
//   final     {"ok":true,"message":"...", ...}  or  {"ok":false,"error":"..."}
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corral::master {

enum class ControlCommand { status, reload, reload_config, restart, broadcast, send, stop };

std::string_view to_string(ControlCommand c);

// One command for the master.
struct ControlRequest {
  ControlCommand command = ControlCommand::status;
  std::uint32_t slot = 0;      // restart, send
  boost::json::value message;  // broadcast, send: delivered to the workers as it is
};

// The request as one line, with its '\n'.
std::string encode(const ControlRequest& request);

// A request line read by the master, or why it is not one.
struct ParsedControlRequest {
  std::optional<ControlRequest> request;
  std::string error;
};
ParsedControlRequest parse_control_request(std::string_view line);

// A slot number as typed on the command line ("0", "12"); nothing for anything else.
std::optional<std::uint32_t> parse_slot(std::string_view text);

// The words for a slot number that is not a number, and for a slot the config does not have:
// the same from the CLI and from admin HTTP. "not a slot number: 'x'", "no slot 9: slots are 0
// to 1".
std::string not_a_slot_message(std::string_view text);
std::string unknown_slot_message(std::uint32_t slot, std::size_t count);

// A JSON value as typed on the command line, or why it is not one.
struct ParsedJson {
  boost::json::value value;
  std::string error;
};
ParsedJson parse_json_argument(std::string_view text);

// Reply lines, each with its '\n'. `fields` adds to the final success line.
std::string progress_line(std::string_view text);
std::string success_line(std::string_view message, boost::json::object fields = {});
std::string error_line(std::string_view error);

// A reply line read by the CLI.
struct ControlReply {
  enum class Kind { progress, success, error } kind = Kind::error;
  std::string text;            // the progress, message or error
  boost::json::object fields;  // the whole line
};
std::optional<ControlReply> parse_control_reply(std::string_view line);

}  // namespace corral::master
