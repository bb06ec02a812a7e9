#include "proxy/master/preflight.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "proxy/master/worker_spec.hpp"
#include "proxy/shared_state.hpp"
#include "proxy/tls_certificate.hpp"

namespace corral::master {

namespace {

namespace fs = std::filesystem;

// Collects problems of one config.
class Checker {
 public:
  explicit Checker(const config::Config& config) : config_(config) {}

  void add(std::string key, std::string message) {
    problems_.push_back(config::Problem{config_.source, 0, 0, std::move(key), std::move(message)});
  }

  // A file corral opens for writing (appending): it exists and is writable, or its folder
  // exists and lets a file be created there.
  void writable_file(const std::string& key, const std::string& path, const std::string& what) {
    std::error_code ec;
    const fs::path file(path);
    if (fs::exists(file, ec)) {
      if (fs::is_directory(file, ec)) return add(key, what + " '" + path + "' is a folder");
      if (::access(path.c_str(), W_OK) != 0)
        add(key, "cannot write " + what + " '" + path + "': " + std::strerror(errno));
      return;
    }
    fs::path folder = file.parent_path();
    if (folder.empty()) folder = ".";
    if (!fs::is_directory(folder, ec)) {
      return add(key, "cannot open " + what + " '" + path + "': folder " + folder.string() +
                          " does not exist");
    }
    if (::access(folder.c_str(), W_OK | X_OK) != 0) {
      add(key, "cannot create " + what + " '" + path + "' in " + folder.string() + ": " +
                   std::strerror(errno));
    }
  }

  void readable_file(const std::string& key, const std::string& path, const std::string& what) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return add(key, what + " '" + path + "' does not exist");
    if (!fs::is_regular_file(path, ec)) return add(key, what + " '" + path + "' is not a file");
    if (::access(path.c_str(), R_OK) != 0)
      add(key, "cannot read " + what + " '" + path + "': " + std::strerror(errno));
  }

  // Whether another process already listens on (or holds) the address.
  void free_port(const std::string& key, const config::Address& address) {
    if (address.port == 0) return;
    proxy::tcp::endpoint ep;
    try {
      ep = proxy::resolve_address(address);
    } catch (const std::exception& e) {
      return add(key, e.what());
    }
    int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ep.protocol() == proxy::tcp::v6())
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0) {
      const int error = errno;
      if (error == EADDRINUSE) {
        add(key, address.text + " is already in use by another process");
      } else if (error == EACCES) {
        add(key, "not allowed to listen on " + address.text +
                     " (a port below 1024 needs "
                     "privileges)");
      } else {
        add(key, "cannot listen on " + address.text + ": " + std::strerror(error));
      }
    }
    ::close(fd);
  }

  // The worker's program: on PATH, or relative to its cwd; and a script it names, in its cwd.
  void worker_command(const config::Workers& workers, const std::string& config_path) {
    const WorkerSpec spec = resolve_workers(workers, config_path, 1);
    std::error_code ec;
    if (!fs::is_directory(spec.cwd, ec)) {
      add("workers.cwd", "folder " + spec.cwd + " does not exist");
      return;
    }
    if (spec.argv.empty()) return;
    const std::string& program = spec.argv.front();
    if (program.find('/') != std::string::npos) {
      const fs::path at =
          fs::path(program).is_absolute() ? fs::path(program) : fs::path(spec.cwd) / program;
      if (!fs::is_regular_file(at, ec)) {
        add("workers.command",
            "'" + program + "' not found (looked at " + at.lexically_normal().string() + ")");
      } else if (::access(at.c_str(), X_OK) != 0) {
        add("workers.command", "'" + at.lexically_normal().string() + "' is not executable");
      }
    } else if (!on_path(program)) {
      add("workers.command", "'" + program + "' not found on PATH");
    }
    // `node server.js`, `python3 app.py`: the script is read from the worker's cwd.
    for (std::size_t i = 1; i < spec.argv.size(); ++i) {
      const std::string& arg = spec.argv[i];
      if (arg.empty() || arg.front() == '-') continue;
      if (is_script(arg)) {
        const fs::path at = fs::path(arg).is_absolute() ? fs::path(arg) : fs::path(spec.cwd) / arg;
        if (!fs::exists(at, ec)) {
          add("workers.command",
              "'" + arg + "' not found in the workers' folder " + spec.cwd +
                  (workers.cwd.empty() ? " (the config's folder; set workers.cwd)" : ""));
        }
      }
      break;  // only the first argument names the script
    }
  }

  std::vector<config::Problem> take() { return std::move(problems_); }

 private:
  static bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    for (;;) {
      std::size_t end = dirs.find(':', start);
      std::string dir =
          dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (dir.empty()) dir = ".";
      const std::string candidate = dir + "/" + program;
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return true;
      if (end == std::string::npos) return false;
      start = end + 1;
    }
  }

  static bool is_script(const std::string& arg) {
    static constexpr std::string_view extensions[] = {".js",  ".mjs", ".cjs", ".ts",  ".py", ".rb",
                                                      ".php", ".pl",  ".sh",  ".jar", ".lua"};
    for (std::string_view ext : extensions)
      if (arg.size() > ext.size() && arg.ends_with(ext)) return true;
    return false;
  }

  const config::Config& config_;
  std::vector<config::Problem> problems_;
};

}  // namespace

std::vector<config::Problem> preflight(const config::Config& config, const std::string& config_path,
                                       bool ports) {
  Checker check(config);
  if (config.access_log != "off" && config.access_log != "stdout")
    check.writable_file("access_log", config.access_log, "access log");
  if (config.sessions && !config.sessions->redis.tls_ca.empty())
    check.readable_file("sessions.tls.ca", config.sessions->redis.tls_ca, "CA file");
  if (config.sticky && !config.sticky->redis.tls_ca.empty())
    check.readable_file("sticky.tls.ca", config.sticky->redis.tls_ca, "CA file");
  // TLS listeners: each certificate and key readable, in PEM, and belonging together.
  for (std::size_t i = 0; i < config.listen.size(); ++i) {
    if (!config.listen[i].tls) continue;
    const auto& certificates = config.listen[i].tls->certificates;
    const std::string key = "listen[" + std::to_string(i) + "].tls";
    for (std::size_t c = 0; c < certificates.size(); ++c) {
      auto loaded = proxy::load_certificate(certificates[c]);
      if (auto* message = std::get_if<std::string>(&loaded)) {
        check.add(certificates.size() == 1 ? key : key + ".certificates[" + std::to_string(c) + "]",
                  *message);
      }
    }
  }
  if (!config.workers) {
    for (std::size_t i = 0; i < config.upstreams.size(); ++i) {
      const auto& tls = config.upstreams[i].tls;
      if (tls && !tls->ca.empty())
        check.readable_file("upstreams[" + std::to_string(i) + "].tls.ca", tls->ca, "CA file");
    }
  }
  if (ports) {
    for (std::size_t i = 0; i < config.listen.size(); ++i)
      check.free_port("listen[" + std::to_string(i) + "]", config.listen[i].address);
    if (config.admin) check.free_port("admin", *config.admin);
  }
  if (config.workers) check.worker_command(*config.workers, config_path);
  return check.take();
}

}  // namespace corral::master
