#include "proxy/admin_commands.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "proxy/master/control_protocol.hpp"

namespace corral::proxy {

namespace json = boost::json;

namespace {

AdminResponse json_response(const AdminRequest& req, http::status status, const json::value& v) {
  std::string body = json::serialize(v);
  body.push_back('\n');
  return text_response(req, status, std::move(body), "application/json");
}

AdminResponse error_response(const AdminRequest& req, http::status status, std::string_view error) {
  return json_response(req, status, json::object{{"ok", false}, {"error", error}});
}

AdminResponse method_not_allowed(const AdminRequest& req, std::string_view allow) {
  auto res = error_response(req, http::status::method_not_allowed,
                            "use " + std::string(allow) + " for " + std::string(req.target()));
  res.set(http::field::allow, allow);
  return res;
}

// "/admin/send/3" with prefix "/admin/send/" → 3.
std::optional<std::uint32_t> slot_after(std::string_view path, std::string_view prefix) {
  auto digits = path.substr(prefix.size());
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  std::uint32_t slot = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), slot);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return slot;
}

bool is_loopback(const tcp::endpoint& peer) {
  const auto a = peer.address();
  if (a.is_loopback()) return true;
  return a.is_v6() && a.to_v6().is_v4_mapped() &&
         asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
}

// Built outside the coroutines: GCC 12 cannot keep a braced list of string literals in a
// coroutine frame across a co_await.
std::string status_request() { return json::serialize(json::object{{"command", "status"}}); }

ControlMessage command_message(std::uint64_t id, std::string request_line) {
  ControlMessage m;
  m.type = "command";
  m.id = id;
  m.body = std::move(request_line);
  return m;
}

}  // namespace

http::status status_for_command_error(std::string_view error) {
  if (error.starts_with("refused") || error.starts_with("this config has no workers"))
    return http::status::conflict;
  if (error.starts_with("no slot")) return http::status::not_found;
  return http::status::internal_server_error;
}

AdminCommands::AdminCommands(asio::io_context& ioc, Send send) : ioc_(ioc), send_(std::move(send)) {}

awaitable<AdminResponse> AdminCommands::handle(const AdminRequest& req, const tcp::endpoint& peer) {
  std::string_view path = req.target();
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

  if (path == "/admin/status") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      co_return method_not_allowed(req, "GET");
    std::string line = status_request();
    co_return co_await relay(req, std::move(line), true);
  }

  json::object request;
  const bool with_message = path == "/admin/broadcast" || path.starts_with("/admin/send/");
  if (path == "/admin/reload") {
    request["command"] = "reload";
  } else if (path == "/admin/broadcast") {
    request["command"] = "broadcast";
  } else if (path.starts_with("/admin/restart/") || path.starts_with("/admin/send/")) {
    const bool restart = path.starts_with("/admin/restart/");
    auto slot = slot_after(path, restart ? "/admin/restart/" : "/admin/send/");
    if (!slot)
      co_return error_response(req, http::status::not_found,
                               master::not_a_slot_message(
                                   path.substr(restart ? std::string_view("/admin/restart/").size()
                                                       : std::string_view("/admin/send/").size())));
    request["command"] = restart ? "restart" : "send";
    request["slot"] = *slot;
  } else {
    co_return error_response(req, http::status::not_found,
                             "unknown admin command " + std::string(path) +
                                 "; try GET /admin/status, POST /admin/reload, "
                                 "/admin/restart/{slot}, /admin/broadcast, /admin/send/{slot}");
  }
  if (req.method() != http::verb::post) co_return method_not_allowed(req, "POST");
  if (!is_loopback(peer))
    co_return error_response(req, http::status::forbidden,
                             "admin commands are taken from loopback only");
  if (req.find(http::field::origin) != req.end())
    co_return error_response(req, http::status::forbidden,
                             "admin commands are not taken from web pages (Origin header)");
  if (with_message) {
    error_code ec;
    json::value message = json::parse(req.body(), ec);
    if (ec)
      co_return error_response(req, http::status::bad_request,
                               "the body must be one JSON value: " + ec.message());
    request["message"] = std::move(message);
  }
  std::string line = json::serialize(request);
  co_return co_await relay(req, std::move(line), false);
}

awaitable<AdminResponse> AdminCommands::relay(const AdminRequest& req, std::string request_line,
                                              bool status_only) {
  if (!send_ || closed_)
    co_return error_response(req, http::status::service_unavailable,
                             "no master: admin commands need `corral run` as the supervisor");
  const std::uint64_t id = next_id_++;
  auto waiting = std::make_shared<Waiting>(ioc_);
  waiting_.emplace(id, waiting);
  send_(command_message(id, std::move(request_line)));
  // The master always answers (a rollout ends, aborts or is refused); close() ends the wait if
  // the master goes away first.
  co_await waiting->timer.async_wait(nothrow);
  waiting_.erase(id);
  if (!waiting->reply)
    co_return error_response(req, http::status::service_unavailable,
                             "the master went away before answering");

  error_code ec;
  json::value final_line = json::parse(waiting->reply->body, ec);
  if (ec || !final_line.is_object())
    co_return error_response(req, http::status::bad_gateway, "unreadable reply from the master");
  json::object& reply = final_line.as_object();
  const json::value* ok = reply.if_contains("ok");
  if (!ok || !ok->is_bool() || !ok->as_bool()) {
    const json::value* error = reply.if_contains("error");
    std::string_view text = error && error->is_string() ? std::string_view(error->as_string())
                                                        : std::string_view("failed");
    auto res = json_response(req, status_for_command_error(text), reply);
    co_return res;
  }
  if (status_only) {
    if (const json::value* status = reply.if_contains("status"))
      co_return json_response(req, http::status::ok, *status);
  }
  if (!waiting->reply->progress.empty()) {
    json::array progress;
    for (const auto& p : waiting->reply->progress) progress.emplace_back(p);
    reply["progress"] = std::move(progress);
  }
  co_return json_response(req, http::status::ok, reply);
}

void AdminCommands::on_reply(const ControlMessage& reply) {
  auto it = waiting_.find(reply.id);
  if (it == waiting_.end()) return;
  it->second->reply = reply;
  it->second->timer.cancel();
}

void AdminCommands::close() {
  closed_ = true;
  for (auto& [id, waiting] : waiting_) waiting->timer.cancel();
}

}  // namespace corral::proxy
