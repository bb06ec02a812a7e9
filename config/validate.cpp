#include "config/validate.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

namespace corral::config {
namespace {

constexpr unsigned max_threads = 1024;
constexpr unsigned min_weight = 1;
constexpr unsigned max_weight = 1000;
constexpr unsigned max_retries = 10;
constexpr unsigned max_workers = 1024;
// Variables corral sets for every worker.
constexpr std::string_view reserved_env[] = {"PORT",
                                             "CORRAL_WORKER_ID",
                                             "CORRAL_GENERATION",
                                             "CORRAL_CHANNEL_FD",
                                             "NODE_CHANNEL_FD",
                                             "NODE_CHANNEL_SERIALIZATION_MODE"};
constexpr std::uint64_t min_header_bytes = 1024;
constexpr std::size_t min_sticky_key_bytes = 16;
constexpr std::string_view affinity_cookie = "corral_affinity";
constexpr std::uint64_t max_header_bytes = 1024 * 1024;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

// True when binding both would clash. Port 0 picks a fresh port each time, so never clashes;
// a wildcard clashes with every host on its port (Linux default: IPv6 sockets are dual-stack).
bool overlaps(const Address& a, const Address& b) {
  if (a.port == 0 || a.port != b.port) return false;
  return lower(a.host) == lower(b.host) || is_wildcard(a.host) || is_wildcard(b.host);
}

std::string indexed(const std::string& key, std::size_t index) {
  return key + "[" + std::to_string(index) + "]";
}

// Collects problems for one config, all pointing at the same file.
class Checker {
 public:
  explicit Checker(const Config& config) : config_(config) {}

  std::vector<Problem> run() {
    check_listen();
    check_admin();
    check_threads();
    check_upstreams();
    check_workers();
    check_timeouts();
    check_limits();
    check_health();
    check_retries();
    check_access_log();
    check_sticky();
    check_sessions();
    return std::move(problems_);
  }

 private:
  void add(std::string key, std::string message) {
    problems_.push_back(Problem{config_.source, 0, 0, std::move(key), std::move(message)});
  }

  void check_listen() {
    const auto& listen = config_.listen;
    if (listen.empty()) add("listen", "at least one listen address is required");
    for (std::size_t i = 0; i < listen.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (overlaps(listen[i].address, listen[j].address)) {
          add(indexed("listen", i), "'" + listen[i].address.text + "' clashes with " +
                                        indexed("listen", j) + " '" + listen[j].address.text +
                                        "'");
          break;
        }
      }
    }
  }

  void check_admin() {
    if (!config_.admin) return;
    for (std::size_t i = 0; i < config_.listen.size(); ++i) {
      if (overlaps(*config_.admin, config_.listen[i].address)) {
        add("admin", "'" + config_.admin->text + "' clashes with " + indexed("listen", i) + " '" +
                         config_.listen[i].address.text +
                         "'; the admin listener needs its own port");
        return;
      }
    }
  }

  void check_threads() {
    if (config_.threads > max_threads) {
      add("threads", "at most " + std::to_string(max_threads) + " threads, got " +
                         std::to_string(config_.threads));
    }
  }

  void check_upstreams() {
    const auto& upstreams = config_.upstreams;
    if (config_.workers) {
      if (!upstreams.empty()) {
        add("workers",
            "workers and upstreams cannot both be set: workers are processes corral starts, "
            "upstreams are services it fronts; keep one of them");
      }
      return;
    }
    if (upstreams.empty()) {
      add("upstreams", "at least one upstream is required (or a workers: section)");
    }
    for (std::size_t i = 0; i < upstreams.size(); ++i) {
      const Upstream& upstream = upstreams[i];
      if (upstream.address.port == 0 && !upstream.address.host.empty()) {
        add(indexed("upstreams", i) + ".address",
            "port 0 means any free port, which only a listener can use");
      }
      if (upstream.tls && config_.health.enabled) {
        add("health", "the active health check speaks plain HTTP and cannot check " +
                          indexed("upstreams", i) + ", which speaks TLS");
      }
      if (upstream.weight < min_weight || upstream.weight > max_weight) {
        add(indexed("upstreams", i) + ".weight", "must be from " + std::to_string(min_weight) +
                                                     " to " + std::to_string(max_weight) +
                                                     ", got " + std::to_string(upstream.weight));
      }
    }
  }

  void check_workers() {
    if (!config_.workers) return;
    const Workers& w = config_.workers.value();
    if (w.command.empty()) add("workers.command", "a command is required, e.g. [node, server.js]");
    if (w.count > max_workers) {
      add("workers.count",
          "at most " + std::to_string(max_workers) + " workers, got " + std::to_string(w.count));
    }
    for (const auto& [name, value] : w.env) {
      if (std::find(std::begin(reserved_env), std::end(reserved_env), name) !=
          std::end(reserved_env)) {
        add("workers.env." + name, "set by corral for each worker; it cannot be given here");
      }
    }
    check_port_range(w);
    check_positive("workers.ready.timeout", w.ready.timeout);
    check_positive("workers.stop.timeout", w.stop.timeout);
    check_positive("workers.restart.backoff", w.restart.backoff);
    check_positive("workers.restart.reset_after", w.restart.reset_after);
    check_positive("workers.restart.min_uptime", w.restart.min_uptime);
    if (w.restart.max_backoff < w.restart.backoff) {
      add("workers.restart.max_backoff", "must be at least workers.restart.backoff");
    }
    if (w.restart.crash_loop < 1) add("workers.restart.crash_loop", "must be at least 1");
  }

  // With a port base, slot i listens on base+i: the range must fit and keep clear of corral's own.
  void check_port_range(const Workers& w) {
    if (w.port_base == 0 || w.count == 0) return;
    const unsigned last = unsigned{w.port_base} + w.count - 1;
    if (last > 65535) {
      add("workers.port_base", "slots " + std::to_string(w.port_base) + ".." +
                                   std::to_string(last) + " go past port 65535");
      return;
    }
    auto inside = [&](const Address& a) { return a.port >= w.port_base && a.port <= last; };
    for (std::size_t i = 0; i < config_.listen.size(); ++i) {
      if (inside(config_.listen[i].address)) {
        add("workers.port_base", "worker ports " + std::to_string(w.port_base) + ".." +
                                     std::to_string(last) + " include " + indexed("listen", i) +
                                     " '" + config_.listen[i].address.text + "'");
        return;
      }
    }
    if (config_.admin && inside(*config_.admin)) {
      add("workers.port_base", "worker ports " + std::to_string(w.port_base) + ".." +
                                   std::to_string(last) + " include admin '" + config_.admin->text +
                                   "'");
    }
  }

  void check_positive(const std::string& key, Duration value) {
    if (value <= Duration::zero()) add(key, "must be more than 0");
  }

  void check_timeouts() {
    const Timeouts& t = config_.timeouts;
    check_positive("timeouts.connect", t.connect);
    check_positive("timeouts.handshake", t.handshake);
    check_positive("timeouts.client_header", t.client_header);
    check_positive("timeouts.idle", t.idle);
    check_positive("timeouts.upstream_response", t.upstream_response);
    check_positive("timeouts.drain", t.drain);
    check_positive("timeouts.queue", t.queue);
    // Kubernetes' grace periods are seconds to minutes: an hour is a typo for seconds.
    if (config_.shutdown_delay > std::chrono::hours(1))
      add("shutdown_delay", "must be at most 1h (it delays every stop by that long)");
  }

  void check_limits() {
    const Limits& limits = config_.limits;
    if (limits.max_header_bytes < min_header_bytes || limits.max_header_bytes > max_header_bytes) {
      add("limits.max_header_bytes",
          "must be from 1KiB to 1MiB, got " + std::to_string(limits.max_header_bytes) + " bytes");
    }
    if (limits.max_connections < 1) add("limits.max_connections", "must be at least 1");
    if (limits.max_queue < 1) add("limits.max_queue", "must be at least 1");
  }

  void check_health() {
    const Health& health = config_.health;
    if (!health.enabled) return;
    if (!health.path.starts_with('/')) {
      add("health.path", "must start with '/', got '" + health.path + "'");
    }
    check_positive("health.interval", health.interval);
    check_positive("health.timeout", health.timeout);
  }

  void check_retries() {
    if (config_.retries > max_retries) {
      add("retries", "must be from 0 to " + std::to_string(max_retries) + ", got " +
                         std::to_string(config_.retries));
    }
  }

  void check_access_log() {
    if (config_.access_log.empty()) add("access_log", "must be off, stdout or a file path");
  }

  static bool is_cookie_name(const std::string& name) {
    // An RFC 6265 token: visible ASCII without separators.
    static constexpr std::string_view separators = "()<>@,;:\\\"/[]?={} \t";
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return c > 32 && c < 127 && separators.find(c) == std::string_view::npos;
    });
  }

  static std::string source_key(const Sticky& s) {
    switch (s.key_source) {
      case StickyKeySource::header:
        return "sticky.header";
      case StickyKeySource::query:
        return "sticky.query";
      case StickyKeySource::client_ip:
        return "sticky.client_ip";
      case StickyKeySource::cookie:
        break;
    }
    return "sticky.cookie";
  }

  void check_sticky() {
    if (config_.balance != Balance::sticky) {
      if (config_.sticky) {
        add("sticky", "a sticky: section needs balance: sticky (or remove the section)");
      }
      return;
    }
    if (!config_.sticky) {
      add("balance",
          "sticky needs a sticky: section, at least { cookie: NAME } (the app's session "
          "cookie) or { mode: insert, key_env: VAR }");
      return;
    }
    const Sticky& s = *config_.sticky;
    const bool by_cookie = s.key_source == StickyKeySource::cookie;
    if (s.mode != StickyMode::hash && !by_cookie) {
      add(source_key(s),
          "header, query and client_ip keys need mode: hash (learn mode learns "
          "from the app's Set-Cookie, insert mode uses its own cookie)");
    }
    if (s.mode != StickyMode::insert && by_cookie && s.cookie.empty()) {
      add("sticky.cookie", "the app's session cookie is required, e.g. cookie: connect.sid");
    }
    if (!s.cookie.empty() && !is_cookie_name(s.cookie)) {
      add("sticky.cookie", "not a cookie name: '" + s.cookie + "'");
    } else if (s.cookie == affinity_cookie) {
      add("sticky.cookie", std::string(affinity_cookie) +
                               " is corral's own cookie in insert mode; name the app's cookie");
    }
    if (!by_cookie && s.key_source != StickyKeySource::client_ip && s.key_name.empty()) {
      add(source_key(s), "a name is required");
    }
    if (s.on_unavailable == OnUnavailable::hold)
      check_positive("sticky.hold_timeout", s.hold_timeout);
    if (s.idle_ttl < Duration::zero()) add("sticky.idle_ttl", "must be 0 (never) or more");
    if (s.mode == StickyMode::learn && s.max_entries < 1) {
      add("sticky.max_entries", "must be at least 1");
    }
    if (s.balance_factor != 0 && (s.balance_factor < 100 || s.balance_factor > 1000)) {
      add("sticky.balance_factor", "must be 0 (off) or a percentage from 100 to 1000, got " +
                                       std::to_string(s.balance_factor));
    }
    if (s.mode == StickyMode::insert) check_insert_key(s);
    if (s.store == StickyStore::redis) check_sticky_store(s);
    check_forwarded(s);
  }

  void check_forwarded(const Sticky& s) {
    if (s.secure != CookieSecure::automatic && s.mode != StickyMode::insert) {
      add("sticky.secure", "only insert mode issues a cookie (corral_affinity) to mark Secure");
    }
  }

  void check_sticky_store(const Sticky& s) {
    if (s.mode != StickyMode::learn) {
      add("sticky.store",
          std::string("store: redis keeps learned pins; ") +
              (s.mode == StickyMode::insert ? "insert" : "hash") +
              " mode keeps none (it is stateless and already shared by every instance)");
    }
    if (s.store_prefix.empty())
      add("sticky.prefix", "must not be empty (it keeps corral's keys apart from others)");
    if (s.store_prefix.size() > 64)  // session::max_affinity_prefix
      add("sticky.prefix", "at most 64 bytes, got " + std::to_string(s.store_prefix.size()));
    check_positive("sticky.timeouts.connect", s.connect_timeout);
    check_positive("sticky.timeouts.command", s.command_timeout);
  }

  void check_insert_key(const Sticky& s) {
    if (s.max_age < std::chrono::seconds(1)) add("sticky.max_age", "must be at least 1s");
    if (!s.key.empty() && !s.key_env.empty()) {
      add("sticky.key_env", "give key or key_env, not both");
      return;
    }
    // Neither: the master signs with a random key of its own (generated_insert_key_env).
    if (s.key.empty() && s.key_env.empty()) return;
    if (!s.key.empty()) {
      if (s.key.size() < min_sticky_key_bytes)
        add("sticky.key", "at least 16 bytes are needed (32 random bytes are best)");
      return;
    }
    auto key = insert_key(s);
    if (!key) {
      add("sticky.key_env", "the variable " + s.key_env + " is not set");
    } else if (key->size() < min_sticky_key_bytes) {
      add("sticky.key_env",
          "the variable " + s.key_env + " holds fewer than 16 bytes (32 random bytes are best)");
    }
  }

  // An RFC 9110 token: what header names and RFC 6265 cookie names are made of.
  static bool is_token(std::string_view text) {
    if (text.empty()) return false;
    for (unsigned char c : text) {
      if (std::isalnum(c)) continue;
      if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos)
        return false;
    }
    return true;
  }

  void check_sessions() {
    if (!config_.sessions) return;
    const Sessions& s = *config_.sessions;
    if (!is_token(s.cookie))
      add("sessions.cookie",
          "not a cookie name: '" + s.cookie + "' (letters, digits and !#$%&'*+-.^_`|~)");
    if (!is_token(s.header))
      add("sessions.header",
          "not a header name: '" + s.header + "' (letters, digits and !#$%&'*+-.^_`|~)");
    std::string header = lower(s.header);
    if (header == "x-corral-session-set" || header == "x-corral-session-clear")
      add("sessions.header", "'" + s.header + "' is the name the app answers with; pick another");
    if (s.ttl < Duration(1000)) add("sessions.ttl", "must be at least 1s");
    check_positive("sessions.timeouts.connect", s.connect_timeout);
    check_positive("sessions.timeouts.command", s.command_timeout);
  }

  const Config& config_;
  std::vector<Problem> problems_;
};

}  // namespace

std::vector<Problem> validate(const Config& config) { return Checker(config).run(); }

std::optional<std::string> insert_key(const Sticky& sticky) {
  if (!sticky.key.empty()) return sticky.key;
  const char* value =
      std::getenv(sticky.key_env.empty() ? generated_insert_key_env : sticky.key_env.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace corral::config
