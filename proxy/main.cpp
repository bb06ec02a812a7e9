// corral: the command line.
#include <fcntl.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

#include "config/load.hpp"
#include "proxy/compare/compare_command.hpp"
#include "proxy/master/control_client.hpp"
#include "proxy/master/control_socket.hpp"
#include "proxy/master/master.hpp"
#include "proxy/master/preflight.hpp"
#include "proxy/master/status_view.hpp"
#include "proxy/membership.hpp"
#include "proxy/server.hpp"

namespace {

using corral::config::LoadResult;
namespace master = corral::master;

int report(const LoadResult& r) {
  for (const auto& p : r.problems) std::cerr << p.to_string() << "\n";
  return r.problems.empty() ? 0 : 2;
}

// Whether a master for this config answers on its control socket (then the listen ports are
// its own, not another process's).
bool master_running(const std::string& config_path) {
  const std::string path = master::control_socket_path(config_path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return up;
}

// The checks on the machine (files, ports, the worker command) after a file that loaded.
void add_preflight(LoadResult& r, const corral::config::KeyPositions& positions,
                   const std::string& config_path) {
  if (!r.config) return;
  auto problems = master::preflight(*r.config, config_path, !master_running(config_path));
  for (auto& p : problems) {
    corral::config::locate(p, positions);
    r.problems.push_back(std::move(p));
  }
  if (!r.problems.empty()) r.config.reset();
}

// The proxy role. A failure to start (an access log that cannot be opened, a socket that cannot
// be bound) is told to the master, which then does not start it again and again.
int run_proxy(corral::config::Config config) {
  namespace proxy = corral::proxy;
  int report_fd = -1;  // a copy: the server's control channel closes its own
  if (const char* fd = std::getenv("CORRAL_CONTROL_FD"); fd && *fd)
    report_fd = ::fcntl(std::atoi(fd), F_DUPFD_CLOEXEC, 3);
  std::optional<proxy::Server> server;
  try {
    server.emplace(std::move(config));
    const int code = server->run();
    if (report_fd >= 0) ::close(report_fd);
    return code;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    const bool was_accepting = server && server->accepting();
    server.reset();
    if (report_fd < 0) return 1;
    if (was_accepting) {
      ::close(report_fd);
      return 1;
    }
    proxy::ControlMessage failed{"failed"};
    failed.body = e.what();
    const std::string line = proxy::encode(failed);
    [[maybe_unused]] auto n = ::write(report_fd, line.data(), line.size());
    ::close(report_fd);
    return proxy::startup_failed_exit;
  }
}

void setup_logging() {
  auto logger = spdlog::stderr_logger_mt("corral");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ corral[%P]: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// Sends one command to the running master and prints what it says; the exit code.
int call(const std::string& config_path, const master::ControlRequest& request, bool json = false) {
  const bool is_status = request.command == master::ControlCommand::status;
  const bool is_stop = request.command == master::ControlCommand::stop;
  master::ControlCall result = master::call_master(
      config_path, request,
      [&](const master::ControlReply& reply) {
        switch (reply.kind) {
          case master::ControlReply::Kind::progress:
            std::cout << reply.text << std::endl;
            break;
          case master::ControlReply::Kind::success:
            if (is_status) {
              const auto* status = reply.fields.if_contains("status");
              if (status && status->is_object()) {
                if (json) {
                  std::cout << boost::json::serialize(*status) << "\n";
                } else {
                  std::cout << master::render_status_table(status->as_object());
                }
              }
            } else {
              std::cout << reply.text << std::endl;
            }
            break;
          case master::ControlReply::Kind::error:
            std::cerr << "corral: " << reply.text << "\n";
            break;
        }
      },
      is_stop);
  if (!result.reached || (!result.ok && !result.error.empty())) {
    std::cerr << "corral: " << result.error << "\n";
    return 1;
  }
  if (is_stop && result.ok) std::cout << "stopped" << std::endl;
  return result.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"corral: reverse proxy and process supervisor"};
  app.require_subcommand(1);
  std::string config_path = "corral.yaml";
  auto add_config = [&](CLI::App* sub) {
    return sub->add_option("-c,--config", config_path, "Config file")->capture_default_str();
  };

  auto* run = app.add_subcommand("run", "Run corral with a config file");
  add_config(run);
  std::string role = "master";
  run->add_option("--role", role,
                  "master (the default: supervises the proxy and the workers) or proxy (the "
                  "data plane, started by the master)")
      ->check(CLI::IsMember({"master", "proxy"}));
  auto* check = app.add_subcommand("check", "Validate a config file and print every problem");
  add_config(check);
  auto* version = app.add_subcommand("version", "Print the version");

  bool json = false;
  auto* status = app.add_subcommand("status", "Show the master, the proxy and every worker slot");
  add_config(status);
  status->add_flag("--json", json, "Print the status as JSON");
  bool reload_config = false;
  auto* reload = app.add_subcommand(
      "reload", "Rolling restart of the workers; with --config, reload the config file");
  reload->add_option("-c", config_path, "Config file")->capture_default_str();
  reload->add_flag("--config", reload_config,
                   "Validate the config file again and start a new proxy generation with it "
                   "(worker changes are applied by a rolling restart)");
  std::string slot_text;
  std::string message_text;
  auto* restart = app.add_subcommand("restart", "Replace the worker of one slot");
  add_config(restart);
  restart->add_option("slot", slot_text, "Slot number")->required();
  auto* broadcast = app.add_subcommand("broadcast", "Send a JSON message to every worker");
  add_config(broadcast);
  broadcast->add_option("message", message_text, "JSON message, e.g. '{\"usersCount\":25}'")
      ->required();
  auto* send = app.add_subcommand("send", "Send a JSON message to the worker of one slot");
  add_config(send);
  send->add_option("slot", slot_text, "Slot number")->required();
  send->add_option("message", message_text, "JSON message")->required();
  auto* stop = app.add_subcommand("stop", "Stop corral: the proxy drains, the workers stop");
  add_config(stop);

  corral::compare::CompareCommand compare(app);

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) {
    std::cout << "corral " << CORRAL_VERSION << "\n";
    return 0;
  }

  if (compare.parsed()) return compare.run();

  master::ControlRequest request;
  auto parse_slot = [&]() -> bool {
    auto slot = master::parse_slot(slot_text);
    if (!slot) std::cerr << "corral: " << master::not_a_slot_message(slot_text) << "\n";
    request.slot = slot.value_or(0);
    return slot.has_value();
  };
  auto parse_message = [&]() -> bool {
    auto parsed = master::parse_json_argument(message_text);
    if (!parsed.error.empty()) std::cerr << "corral: " << parsed.error << "\n";
    request.message = std::move(parsed.value);
    return parsed.error.empty();
  };
  if (status->parsed()) {
    request.command = master::ControlCommand::status;
    return call(config_path, request, json);
  }
  if (reload->parsed()) {
    request.command =
        reload_config ? master::ControlCommand::reload_config : master::ControlCommand::reload;
    return call(config_path, request);
  }
  if (restart->parsed()) {
    request.command = master::ControlCommand::restart;
    return parse_slot() ? call(config_path, request) : 2;
  }
  if (broadcast->parsed()) {
    request.command = master::ControlCommand::broadcast;
    return parse_message() ? call(config_path, request) : 2;
  }
  if (send->parsed()) {
    request.command = master::ControlCommand::send;
    return parse_slot() && parse_message() ? call(config_path, request) : 2;
  }
  if (stop->parsed()) {
    request.command = master::ControlCommand::stop;
    return call(config_path, request);
  }

  corral::config::KeyPositions positions;
  auto loaded = corral::config::load_file(config_path, positions);
  if (check->parsed() || (run->parsed() && role == "master"))
    add_preflight(loaded, positions, config_path);
  if (check->parsed()) {
    int rc = report(loaded);
    if (rc == 0) std::cout << config_path << ": ok\n";
    return rc;
  }
  if (run->parsed()) {
    if (!loaded.config) return report(loaded);
    setup_logging();
    if (role == "proxy") return run_proxy(std::move(*loaded.config));
    try {
      master::Master m(std::move(*loaded.config), config_path);
      return m.run();
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 1;
    }
  }
  return 0;
}
