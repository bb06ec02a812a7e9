#pragma once
// The admin HTTP commands, relayed to the master over the control channel and answered when its
// final reply comes back (the same commands as the CLI's, proxy/master/control_protocol.hpp):
//   GET  /admin/status            the master's status, as `corral status --json`
//   POST /admin/reload            rolling restart of every worker slot
//   POST /admin/restart/{slot}    restart of one slot
//   POST /admin/broadcast         body: one JSON value, delivered to every ready worker
//   POST /admin/send/{slot}       body: one JSON value, delivered to that slot's worker
// Mutating commands are POST only, from a loopback peer, and never from a browser page of
// another site (a request with an Origin header is refused). Control thread only.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "proxy/admin_listener.hpp"
#include "proxy/asio.hpp"
#include "proxy/membership.hpp"

namespace corral::proxy {

class AdminCommands {
 public:
  using Send = std::function<void(const ControlMessage&)>;

  // `send` writes to the master; empty when this proxy runs without one.
  AdminCommands(asio::io_context& ioc, Send send);

  static bool handles(std::string_view path) { return path.starts_with("/admin/"); }
  awaitable<AdminResponse> handle(const AdminRequest& req, const tcp::endpoint& peer);

  // A `reply` from the master.
  void on_reply(const ControlMessage& reply);
  // The master is gone: every waiting command is answered 503.
  void close();

 private:
  struct Waiting {
    explicit Waiting(asio::io_context& ioc) : timer(ioc, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    std::optional<ControlMessage> reply;
  };

  awaitable<AdminResponse> relay(const AdminRequest& req, std::string request_line,
                                 bool status_only);

  asio::io_context& ioc_;
  Send send_;
  std::map<std::uint64_t, std::shared_ptr<Waiting>> waiting_;
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
};

// The HTTP status for a failed command's error text: 409 for a refusal (something else runs,
// corral is stopping, the config has no workers), 404 for an unknown slot, else 500.
http::status status_for_command_error(std::string_view error);

}  // namespace corral::proxy
