// corral: the command line.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "config/load.hpp"
#include "proxy/server.hpp"

namespace {

using corral::config::LoadResult;

int report(const LoadResult& r) {
  for (const auto& p : r.problems) std::cerr << p.to_string() << "\n";
  return r.problems.empty() ? 0 : 2;
}

void setup_logging() {
  auto logger = spdlog::stderr_logger_mt("corral");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ corral[%P]: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"corral: reverse proxy and process supervisor"};
  app.require_subcommand(1);
  std::string config_path = "corral.yaml";

  auto* run = app.add_subcommand("run", "Run the proxy with a config file");
  run->add_option("-c,--config", config_path, "Config file")->capture_default_str();
  auto* check = app.add_subcommand("check", "Validate a config file and print every problem");
  check->add_option("-c,--config", config_path, "Config file")->capture_default_str();
  auto* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) {
    std::cout << "corral " << CORRAL_VERSION << "\n";
    return 0;
  }
  auto loaded = corral::config::load_file(config_path);
  if (check->parsed()) {
    int rc = report(loaded);
    if (rc == 0) std::cout << config_path << ": ok\n";
    return rc;
  }
  if (run->parsed()) {
    if (!loaded.config) return report(loaded);
    setup_logging();
    try {
      corral::proxy::Server server(std::move(*loaded.config));
      return server.run();
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 1;
    }
  }
  return 0;
}
