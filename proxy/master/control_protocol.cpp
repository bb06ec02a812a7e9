#include "proxy/master/control_protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

namespace corral::master {

namespace json = boost::json;

std::string_view to_string(ControlCommand c) {
  switch (c) {
    case ControlCommand::status:
      return "status";
    case ControlCommand::reload:
      return "reload";
    case ControlCommand::reload_config:
      return "reload --config";
    case ControlCommand::restart:
      return "restart";
    case ControlCommand::broadcast:
      return "broadcast";
    case ControlCommand::send:
      return "send";
    case ControlCommand::stop:
      return "stop";
  }
  return "status";
}

namespace {

std::string line_of(const json::object& o) {
  std::string text = json::serialize(o);
  text.push_back('\n');
  return text;
}

std::optional<std::uint32_t> slot_of(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_uint64() && v->as_uint64() <= UINT32_MAX)
    return static_cast<std::uint32_t>(v->as_uint64());
  if (v->is_int64() && v->as_int64() >= 0 && v->as_int64() <= UINT32_MAX) {
    return static_cast<std::uint32_t>(v->as_int64());
  }
  return std::nullopt;
}

}  // namespace

std::string encode(const ControlRequest& request) {
  json::object o;
  switch (request.command) {
    case ControlCommand::reload_config:
      o["command"] = "reload";
      o["config"] = true;
      break;
    default:
      o["command"] = to_string(request.command);
  }
  if (request.command == ControlCommand::restart || request.command == ControlCommand::send) {
    o["slot"] = request.slot;
  }
  if (request.command == ControlCommand::broadcast || request.command == ControlCommand::send) {
    o["message"] = request.message;
  }
  return line_of(o);
}

ParsedControlRequest parse_control_request(std::string_view line) {
  ParsedControlRequest out;
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  const json::object& o = v.as_object();
  const json::value* command = o.if_contains("command");
  if (!command || !command->is_string()) {
    out.error = "no \"command\"";
    return out;
  }
  const std::string_view name = command->as_string();
  ControlRequest request;
  auto needs_slot = [&]() -> bool {
    auto slot = slot_of(o.if_contains("slot"));
    if (!slot) {
      out.error = std::string(name) + ": \"slot\" must be a slot number";
      return false;
    }
    request.slot = *slot;
    return true;
  };
  auto needs_message = [&]() -> bool {
    const json::value* message = o.if_contains("message");
    if (!message) {
      out.error = std::string(name) + ": \"message\" is missing";
      return false;
    }
    request.message = *message;
    return true;
  };
  if (name == "status") {
    request.command = ControlCommand::status;
  } else if (name == "reload") {
    const json::value* config = o.if_contains("config");
    bool with_config = config && config->is_bool() && config->as_bool();
    request.command = with_config ? ControlCommand::reload_config : ControlCommand::reload;
  } else if (name == "restart") {
    request.command = ControlCommand::restart;
    if (!needs_slot()) return out;
  } else if (name == "broadcast") {
    request.command = ControlCommand::broadcast;
    if (!needs_message()) return out;
  } else if (name == "send") {
    request.command = ControlCommand::send;
    if (!needs_slot() || !needs_message()) return out;
  } else if (name == "stop") {
    request.command = ControlCommand::stop;
  } else {
    out.error = "unknown command '" + std::string(name) +
                "' (known: status, reload, restart, broadcast, send, stop)";
    return out;
  }
  out.request = std::move(request);
  return out;
}

std::optional<std::uint32_t> parse_slot(std::string_view text) {
  std::uint32_t slot = 0;
  const char* end = text.data() + text.size();
  auto [next, error] = std::from_chars(text.data(), end, slot);
  if (text.empty() || error != std::errc{} || next != end) return std::nullopt;
  return slot;
}

std::string not_a_slot_message(std::string_view text) {
  return "not a slot number: '" + std::string(text) + "'";
}

std::string unknown_slot_message(std::uint32_t slot, std::size_t count) {
  return "no slot " + std::to_string(slot) +
         (count == 0 ? std::string(": this config has no worker slots")
                     : ": slots are 0 to " + std::to_string(count - 1));
}

ParsedJson parse_json_argument(std::string_view text) {
  ParsedJson out;
  boost::system::error_code ec;
  out.value = json::parse(text, ec);
  if (ec) {
    out.value = nullptr;
    out.error = "not JSON: " + std::string(text) + " (" + ec.message() + ")";
  }
  return out;
}

std::string progress_line(std::string_view text) {
  return line_of(json::object{{"progress", text}});
}

std::string success_line(std::string_view message, json::object fields) {
  fields["ok"] = true;
  fields["message"] = message;
  return line_of(fields);
}

std::string error_line(std::string_view error) {
  return line_of(json::object{{"ok", false}, {"error", error}});
}

std::optional<ControlReply> parse_control_reply(std::string_view line) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  ControlReply reply;
  reply.fields = std::move(v.as_object());
  auto text_of = [&](std::string_view key) {
    const json::value* t = reply.fields.if_contains(key);
    return t && t->is_string() ? std::string(t->as_string()) : std::string();
  };
  if (reply.fields.contains("progress")) {
    reply.kind = ControlReply::Kind::progress;
    reply.text = text_of("progress");
    return reply;
  }
  const json::value* ok = reply.fields.if_contains("ok");
  if (!ok || !ok->is_bool()) return std::nullopt;
  reply.kind = ok->as_bool() ? ControlReply::Kind::success : ControlReply::Kind::error;
  reply.text = text_of(ok->as_bool() ? "message" : "error");
  return reply;
}

}  // namespace corral::master
