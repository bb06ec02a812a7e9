// The only file that knows YAML: reads a document into Config, remembering where each key sits.
#include "config/load.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <utility>
#include <variant>

#include "config/address.hpp"
#include "config/cidr.hpp"
#include "config/command.hpp"
#include "config/env.hpp"
#include "config/redis_url.hpp"
#include "config/signal_name.hpp"
#include "config/suggest.hpp"
#include "config/units.hpp"
#include "config/validate.hpp"

namespace corral::config {
namespace {

using Keys = std::span<const std::string_view>;

constexpr std::string_view root_keys[] = {"listen",   "threads",   "admin",      "upstreams",
                                          "workers",  "balance",   "sticky",     "timeouts",
                                          "limits",   "health",    "retries",    "access_log",
                                          "sessions", "trusted_proxies", "shutdown_delay",
                                          "http2"};
constexpr std::string_view http2_keys[] = {"max_concurrent_streams", "stream_window", "reset_burst",
                                           "reset_rate"};
constexpr std::string_view upstream_keys[] = {"address", "weight", "tls"};
constexpr std::string_view upstream_tls_keys[] = {"verify", "ca", "sni"};
constexpr std::string_view listener_keys[] = {"address", "tls", "h2c"};
constexpr std::string_view listener_tls_keys[] = {"cert",        "key",  "certificates",
                                                  "min_version", "alpn", "session_tickets"};
constexpr std::string_view certificate_keys[] = {"cert", "key"};
constexpr std::string_view alpn_names[] = {"h2", "http/1.1"};
constexpr std::string_view timeout_keys[] = {"connect", "handshake", "client_header", "idle",
                                             "upstream_response", "drain", "queue"};
constexpr std::string_view limit_keys[] = {"max_header_bytes", "max_body_bytes", "max_connections",
                                           "max_queue"};
constexpr std::string_view health_keys[] = {"path", "interval", "timeout"};
constexpr std::string_view worker_keys[] = {"command", "count",   "cwd",           "env",
                                            "port_base", "ready", "stop", "restart",
                                            "max_in_flight"};
constexpr std::string_view worker_ready_keys[] = {"when", "timeout"};
constexpr std::string_view worker_stop_keys[] = {"signal", "timeout"};
constexpr std::string_view worker_restart_keys[] = {"backoff", "max_backoff", "reset_after",
                                                    "crash_loop", "min_uptime"};
constexpr std::string_view ready_when_names[] = {"port", "message"};
constexpr std::string_view balance_names[] = {"round_robin", "least_loaded", "sticky"};
constexpr std::string_view sticky_keys[] = {
    "cookie",   "mode",        "fallback", "on_unavailable", "hold_timeout",
    "idle_ttl", "max_entries", "header",   "query",          "client_ip",
    "key",      "key_env",     "max_age",  "balance_factor", "store",
    "redis",    "tls",         "timeouts", "prefix",         "secure"};
constexpr std::string_view sticky_mode_names[] = {"learn", "insert", "hash"};
constexpr std::string_view fallback_names[] = {"round_robin", "least_loaded"};
constexpr std::string_view on_unavailable_names[] = {"failover", "hold", "strict"};
constexpr std::string_view sticky_store_names[] = {"local", "redis"};
constexpr std::string_view session_keys[] = {
    "store", "redis", "cookie", "ttl", "header", "on_store_down", "timeouts", "tls", "secure",
    "cache"};
constexpr std::string_view session_cache_keys[] = {"max_entries", "max_bytes"};
constexpr std::string_view session_tls_keys[] = {"ca", "insecure_skip_verify"};
constexpr std::string_view session_timeout_keys[] = {"connect", "command"};
constexpr std::string_view store_down_names[] = {"fail_closed", "fail_open"};

// A place in the file, 1-based; 0 when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

Position position_of(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string indexed(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string joined(Keys keys) {
  std::string out;
  for (std::string_view key : keys) {
    if (!out.empty()) out += ", ";
    out += key;
  }
  return out;
}

// What a node holds, for "expected X, got Y".
std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "nothing";
  }
}

bool is_whole_number(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// True when `b` lies under `a` (or is `a`): "listen" covers "listen[0]" and "listen[0].x".
bool covers(std::string_view a, std::string_view b) {
  if (a.empty()) return true;
  if (!b.starts_with(a)) return false;
  return b.size() == a.size() || b[a.size()] == '.' || b[a.size()] == '[';
}

// Reads one YAML document into Config, collecting every problem with its position.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void read_root(const YAML::Node& root, Config& config) {
    if (root.IsNull()) return;  // an empty file: validate reports what is missing
    if (!root.IsMap()) {
      fail("", root, "expected a map of settings, got " + kind_of(root));
      return;
    }
    for_each_key(root, "", root_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& path) {
                   read_setting(key, value, path, config);
                 });
  }

  // Fills positions into problems found by validate, dropping those that only repeat a value
  // already reported as unreadable (an unparsable listen address leaves "listen" looking empty).
  void add_checked(std::vector<Problem> checked) {
    for (Problem& problem : checked) {
      bool repeats = std::any_of(failed_.begin(), failed_.end(), [&](const std::string& failed) {
        return covers(failed, problem.key) || covers(problem.key, failed);
      });
      if (repeats) continue;
      Position at = position_for(problem.key);
      problem.line = at.line;
      problem.column = at.column;
      problems_.push_back(std::move(problem));
    }
  }

  // A problem with the file as a whole rather than one key.
  void report_at(const YAML::Node& node, std::string message) {
    report("", node, std::move(message));
  }

  KeyPositions positions() const {
    KeyPositions out;
    for (const auto& [key, at] : positions_) out.emplace(key, std::pair(at.line, at.column));
    return out;
  }

  // Every problem, in file order; those without a position last.
  std::vector<Problem> take_problems() {
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      auto place = [](const Problem& p) {
        return std::pair(p.line == 0 ? std::numeric_limits<int>::max() : p.line, p.column);
      };
      return place(a) < place(b);
    });
    return std::move(problems_);
  }

 private:
  // Calls read(key, value, path) for each known key of a map, in file order; reports unknown
  // and repeated keys. A null node counts as an empty map (a section with every line commented).
  template <class Read>
  void for_each_key(const YAML::Node& map, const std::string& path, Keys known, Read read) {
    if (map.IsNull()) return;
    if (!map.IsMap()) {
      fail(path, map, "expected a map with keys " + joined(known) + ", got " + kind_of(map));
      return;
    }
    std::map<std::string, int> seen_on_line;
    for (const auto& entry : map) {
      // Copies: nodes are handles, and the iterator's pair is a temporary.
      const YAML::Node key_node = entry.first;
      const YAML::Node value = entry.second;
      if (!key_node.IsScalar()) {
        report(path, key_node, "keys must be plain names, got " + kind_of(key_node));
        continue;
      }
      const std::string& key = key_node.Scalar();
      const std::string key_path = child(path, key);
      Position key_at = position_of(key_node.Mark());
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string message = "unknown key";
        if (auto near = suggest(key, known)) {
          message += "; did you mean '" + *near + "'?";
        } else {
          message += " (known keys: " + joined(known) + ")";
        }
        report(key_path, key_node, std::move(message));
        continue;
      }
      if (auto [first, inserted] = seen_on_line.emplace(key, key_at.line); !inserted) {
        report(key_path, key_node,
               "repeated key (first given on line " + std::to_string(first->second) + ")");
        continue;
      }
      // A null value's mark points past it, at whatever follows; the key's is the place to show.
      remember(key_path, value.IsNull() ? key_node.Mark() : value.Mark());
      read(key, value, key_path);
    }
  }

  void read_setting(std::string_view key, const YAML::Node& value, const std::string& path,
                    Config& config) {
    if (key == "listen") {
      read_listen(value, path, config.listen);
    } else if (key == "threads") {
      read_threads(value, path, config.threads);
    } else if (key == "admin") {
      read_admin(value, path, config.admin);
    } else if (key == "upstreams") {
      read_upstreams(value, path, config.upstreams);
    } else if (key == "workers") {
      read_workers(value, path, config.workers.emplace());
    } else if (key == "balance") {
      read_balance(value, path, config.balance);
    } else if (key == "sticky") {
      read_sticky(value, path, config.sticky.emplace());
    } else if (key == "timeouts") {
      read_timeouts(value, path, config.timeouts);
    } else if (key == "limits") {
      read_limits(value, path, config.limits);
    } else if (key == "http2") {
      read_http2(value, path, config.http2);
    } else if (key == "health") {
      read_health(value, path, config.health);
    } else if (key == "retries") {
      if (auto retries = read_unsigned(value, path)) config.retries = *retries;
    } else if (key == "access_log") {
      if (auto log = read_text(value, path, "off, stdout or a file path")) config.access_log = *log;
    } else if (key == "sessions") {
      read_sessions(value, path, config.sessions.emplace());
    } else if (key == "trusted_proxies") {
      read_trusted_proxies(value, path, config.trusted_proxies);
    } else if (key == "shutdown_delay") {
      if (auto delay = read_duration(value, path)) config.shutdown_delay = *delay;
    }
  }

  // The keys of a section that talks to Redis: redis (the URL), tls and timeouts. Collected
  // while the section is read, settled by finish_redis_keys (tls may come before redis).
  struct RedisKeys {
    bool has_redis = false;
    bool has_tls = false;
    std::string ca;
    bool skip_verify = false;
  };

  // Reads `key` when it is one of them; false when it is not.
  bool read_redis_key(std::string_view key, const YAML::Node& value, const std::string& key_path,
                      RedisTarget& target, Duration& connect, Duration& command,
                      RedisKeys& seen) {
    if (key == "redis") {
      seen.has_redis = true;
      read_redis_url(value, key_path, target);
    } else if (key == "timeouts") {
      for_each_key(value, key_path, session_timeout_keys,
                   [&](std::string_view k, const YAML::Node& v, const std::string& p) {
                     auto duration = read_duration(v, p);
                     if (!duration) return;
                     if (k == "connect") connect = *duration;
                     if (k == "command") command = *duration;
                   });
    } else if (key == "tls") {
      seen.has_tls = true;
      for_each_key(value, key_path, session_tls_keys,
                   [&](std::string_view k, const YAML::Node& v, const std::string& p) {
                     if (k == "ca") {
                       if (auto text = read_text(v, p, "a CA file (PEM)")) seen.ca = *text;
                       return;
                     }
                     auto text = read_text(v, p, "true or false");
                     if (!text) return;
                     if (*text == "true")
                       seen.skip_verify = true;
                     else if (*text == "false")
                       seen.skip_verify = false;
                     else
                       fail(p, v, "expected true or false, got '" + *text + "'");
                   });
    } else {
      return false;
    }
    return true;
  }

  void finish_redis_keys(const YAML::Node& node, const std::string& path, RedisKeys& seen,
                         RedisTarget& target) {
    if (!seen.has_tls) return;
    if (!target.tls && seen.has_redis && !failed_.count(child(path, "redis"))) {
      report(child(path, "tls"), node[std::string("tls")],
             "only for a rediss:// URL (redis:// is plain TCP)");
    }
    // A relative CA path is taken from the config file's directory, as workers.cwd is.
    if (!seen.ca.empty() && seen.ca.front() != '/') {
      auto slash = file_.rfind('/');
      if (slash != std::string::npos) seen.ca = file_.substr(0, slash + 1) + seen.ca;
    }
    target.tls_ca = seen.ca;
    target.tls_insecure_skip_verify = seen.skip_verify;
  }

  void read_sessions(const YAML::Node& node, const std::string& path, Sessions& sessions) {
    RedisKeys seen;
    for_each_key(
        node, path, session_keys,
        [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
          if (read_redis_key(key, value, key_path, sessions.redis, sessions.connect_timeout,
                             sessions.command_timeout, seen))
            return;
          if (key == "store") {
            auto text = read_text(value, key_path, "redis");
            if (text && *text != "redis")
              fail(key_path, value, "unknown store '" + *text + "' (expected redis)");
          } else if (key == "cookie") {
            if (auto text = read_text(value, key_path, "a cookie name")) sessions.cookie = *text;
          } else if (key == "ttl") {
            if (auto duration = read_duration(value, key_path)) sessions.ttl = *duration;
          } else if (key == "header") {
            if (auto text = read_text(value, key_path, "a header name")) sessions.header = *text;
          } else if (key == "on_store_down") {
            read_store_down(value, key_path, sessions.on_store_down);
          } else if (key == "secure") {
            read_cookie_secure(value, key_path, sessions.secure);
          } else if (key == "cache") {
            read_session_cache(value, key_path, sessions);
          }
        });
    finish_redis_keys(node, path, seen, sessions.redis);
    if (!seen.has_redis && !failed_.count(path))
      fail(path, node, "missing key 'redis' (the store's URL, e.g. redis://127.0.0.1:6379/0)");
  }

  void read_session_cache(const YAML::Node& node, const std::string& path, Sessions& sessions) {
    for_each_key(node, path, session_cache_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "max_entries") {
                     auto count = read_count(value, key_path);
                     if (!count) return;
                     if (*count > 10'000'000)
                       fail(key_path, value, "expected at most 10000000 (0 turns the cache off)");
                     else
                       sessions.cache_max_entries = *count;
                   } else if (key == "max_bytes") {
                     auto size = read_size(value, key_path);
                     if (!size) return;
                     if (*size < 64 * 1024 || *size > (std::uint64_t{64} << 30))
                       fail(key_path, value, "expected a size from 64KiB to 64GiB");
                     else
                       sessions.cache_max_bytes = *size;
                   }
                 });
  }

  void read_redis_url(const YAML::Node& node, const std::string& path, RedisTarget& target) {
    auto text = read_text(node, path, "a Redis URL such as redis://127.0.0.1:6379/0");
    if (!text) return;
    auto parsed = parse_redis_url(*text);
    if (auto* message = std::get_if<std::string>(&parsed)) {
      fail(path, node, "not a Redis URL: " + *message);
      return;
    }
    target = std::get<RedisTarget>(std::move(parsed));
  }

  void read_store_down(const YAML::Node& node, const std::string& path, StoreDown& down) {
    auto text = read_text(node, path, "fail_closed or fail_open");
    if (!text) return;
    if (*text == "fail_closed") {
      down = StoreDown::fail_closed;
    } else if (*text == "fail_open") {
      down = StoreDown::fail_open;
    } else if (auto near = suggest(*text, store_down_names)) {
      fail(path, node, "unknown value '" + *text + "'; did you mean '" + *near + "'?");
    } else {
      fail(path, node,
           "unknown value '" + *text +
               "' (expected fail_closed: answer 503, or fail_open: forward without a session)");
    }
  }

  void read_listen(const YAML::Node& node, const std::string& path, std::vector<Listener>& listen) {
    if (node.IsScalar() || node.IsMap()) {
      listen.push_back(read_listener(node, path));
      return;
    }
    if (!node.IsSequence()) {
      fail(path, node, "expected an address or a list of addresses, got " + kind_of(node));
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      // Placeholders keep indices in step with the file for validate's messages.
      listen.push_back(read_listener(node[i], indexed(path, i)));
    }
  }

  // "0.0.0.0:8080", or { address: 0.0.0.0:8443, tls: {...} }.
  Listener read_listener(const YAML::Node& node, const std::string& path) {
    Listener listener;
    if (!node.IsMap()) {
      listener.address = read_address(node, path).value_or(Address{});
      return listener;
    }
    remember(path, node.Mark());
    bool has_address = false;
    for_each_key(node, path, listener_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "address") {
                     has_address = true;
                     listener.address = read_address(value, key_path).value_or(Address{});
                   } else if (key == "tls") {
                     read_listener_tls(value, key_path, listener.tls.emplace());
                   } else if (key == "h2c") {
                     if (auto on = read_bool(value, key_path)) listener.h2c = *on;
                   }
                 });
    if (!has_address) fail(path, node, "missing key 'address'");
    if (listener.h2c && listener.tls && node["h2c"])
      fail(path + ".h2c", node["h2c"],
           "h2c is for plain listeners; a TLS listener offers h2 through tls.alpn");
    return listener;
  }

  void read_listener_tls(const YAML::Node& node, const std::string& path, ListenerTls& tls) {
    TlsCertificate single;
    bool has_cert = false, has_key = false, has_list = false;
    for_each_key(
        node, path, listener_tls_keys,
        [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
          if (key == "cert") {
            has_cert = true;
            if (auto file = read_file_path(value, key_path, "a certificate file (PEM)"))
              single.cert = *file;
          } else if (key == "key") {
            has_key = true;
            if (auto file = read_file_path(value, key_path, "a private key file (PEM)"))
              single.key = *file;
          } else if (key == "certificates") {
            has_list = true;
            read_certificates(value, key_path, tls.certificates);
          } else if (key == "min_version") {
            auto text = read_text(value, key_path, "1.2 or 1.3");
            if (!text) return;
            if (*text == "1.2" || *text == "TLSv1.2") {
              tls.min_version = TlsVersion::v1_2;
            } else if (*text == "1.3" || *text == "TLSv1.3") {
              tls.min_version = TlsVersion::v1_3;
            } else {
              fail(key_path, value, "expected 1.2 or 1.3, got '" + *text + "'");
            }
          } else if (key == "alpn") {
            read_alpn(value, key_path, tls.alpn);
          } else if (key == "session_tickets") {
            if (auto on = read_bool(value, key_path)) tls.session_tickets = *on;
          }
        });
    if (node.IsNull() || (node.IsMap() && !failed_.count(path))) {
      if (has_list && (has_cert || has_key)) {
        fail(path, node, "give either cert and key, or certificates, not both");
      } else if (has_cert != has_key) {
        fail(path, node, has_cert ? "missing key 'key' (the certificate's private key)"
                                  : "missing key 'cert' (the key's certificate)");
      } else if (!has_list && !has_cert) {
        fail(path, node, "missing keys 'cert' and 'key' (or 'certificates')");
      }
    }
    if (has_cert && has_key && !has_list) tls.certificates.push_back(std::move(single));
  }

  void read_certificates(const YAML::Node& node, const std::string& path,
                         std::vector<TlsCertificate>& out) {
    if (!node.IsSequence() || node.size() == 0) {
      fail(path, node, "expected a list of {cert, key} maps, got " + kind_of(node));
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node entry = node[i];
      const std::string entry_path = indexed(path, i);
      remember(entry_path, entry.Mark());
      TlsCertificate certificate;
      bool has_cert = false, has_key = false;
      for_each_key(entry, entry_path, certificate_keys,
                   [&](std::string_view key, const YAML::Node& value, const std::string& p) {
                     if (key == "cert") {
                       has_cert = true;
                       if (auto file = read_file_path(value, p, "a certificate file (PEM)"))
                         certificate.cert = *file;
                     } else {
                       has_key = true;
                       if (auto file = read_file_path(value, p, "a private key file (PEM)"))
                         certificate.key = *file;
                     }
                   });
      if (entry.IsMap() && !has_cert) fail(entry_path, entry, "missing key 'cert'");
      if (entry.IsMap() && !has_key) fail(entry_path, entry, "missing key 'key'");
      out.push_back(std::move(certificate));
    }
  }

  void read_alpn(const YAML::Node& node, const std::string& path, std::vector<std::string>& alpn) {
    alpn.clear();
    if (!node.IsSequence()) {
      fail(path, node, "expected a list of protocols such as [http/1.1], got " + kind_of(node));
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string entry_path = indexed(path, i);
      auto text = read_text(node[i], entry_path, "a protocol name");
      if (!text) continue;
      if (std::find(std::begin(alpn_names), std::end(alpn_names), *text) == std::end(alpn_names)) {
        fail(entry_path, node[i], "unsupported protocol '" + *text + "' (supported: h2, http/1.1)");
        continue;
      }
      alpn.push_back(*text);
    }
  }

  std::optional<bool> read_bool(const YAML::Node& node, const std::string& path) {
    auto text = read_text(node, path, "true or false");
    if (!text) return std::nullopt;
    if (*text == "true") return true;
    if (*text == "false") return false;
    fail(path, node, "expected true or false, got '" + *text + "'");
    return std::nullopt;
  }

  // A file the config names; a relative path is taken from the config file's directory, as
  // workers.cwd and the Redis CA are.
  std::optional<std::string> read_file_path(const YAML::Node& node, const std::string& path,
                                            std::string_view expected) {
    auto text = read_text(node, path, expected);
    if (!text) return std::nullopt;
    if (text->empty()) {
      fail(path, node, "expected " + std::string(expected) + ", got an empty string");
      return std::nullopt;
    }
    return from_config_dir(*text);
  }

  std::string from_config_dir(std::string file) const {
    if (!file.empty() && file.front() != '/') {
      auto slash = file_.rfind('/');
      if (slash != std::string::npos) file = file_.substr(0, slash + 1) + file;
    }
    return file;
  }

  void read_threads(const YAML::Node& node, const std::string& path, unsigned& threads) {
    auto text = read_text(node, path, "auto or a positive whole number");
    if (!text) return;
    if (*text == "auto") {
      threads = 0;
      return;
    }
    auto count = parse_unsigned(*text);
    if (!count || *count == 0) {
      fail(path, node, "expected auto or a positive whole number, got '" + *text + "'");
      return;
    }
    threads = *count;
  }

  void read_admin(const YAML::Node& node, const std::string& path, std::optional<Address>& admin) {
    auto text = read_text(node, path, "an address or off");
    if (!text) return;
    if (*text == "off") {
      admin.reset();
      return;
    }
    admin = address_from(*text, node, path);
  }

  void read_upstreams(const YAML::Node& node, const std::string& path,
                      std::vector<Upstream>& upstreams) {
    if (!node.IsSequence()) {
      fail(path, node, "expected a list of upstreams, got " + kind_of(node));
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node entry = node[i];
      const std::string entry_path = indexed(path, i);
      remember(entry_path, entry.Mark());
      Upstream upstream;  // kept even when broken, so indices stay in step with the file
      if (entry.IsScalar()) {
        upstream.address = read_address(entry, entry_path).value_or(Address{});
      } else if (entry.IsMap()) {
        read_upstream_map(entry, entry_path, upstream);
      } else {
        fail(entry_path, entry,
             "expected an address or a map with keys address, weight, tls, got " + kind_of(entry));
      }
      upstreams.push_back(std::move(upstream));
    }
  }

  void read_upstream_map(const YAML::Node& node, const std::string& path, Upstream& upstream) {
    bool has_address = false;
    for_each_key(node, path, upstream_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "address") {
                     has_address = true;
                     upstream.address = read_address(value, key_path).value_or(Address{});
                   } else if (key == "weight") {
                     if (auto weight = read_unsigned(value, key_path)) upstream.weight = *weight;
                   } else if (key == "tls") {
                     read_upstream_tls(value, key_path, upstream.tls.emplace());
                   }
                 });
    if (!has_address) fail(path, node, "missing key 'address'");
  }

  void read_upstream_tls(const YAML::Node& node, const std::string& path, UpstreamTls& tls) {
    for_each_key(node, path, upstream_tls_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "verify") {
                     if (auto on = read_bool(value, key_path)) tls.verify = *on;
                   } else if (key == "ca") {
                     if (auto file = read_file_path(value, key_path, "a CA file (PEM)"))
                       tls.ca = *file;
                   } else if (key == "sni") {
                     if (auto name = read_text(value, key_path, "a server name")) tls.sni = *name;
                   }
                 });
  }

  void read_workers(const YAML::Node& node, const std::string& path, Workers& workers) {
    for_each_key(node, path, worker_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "command") {
                     read_command(value, key_path, workers.command);
                   } else if (key == "count") {
                     read_worker_count(value, key_path, workers.count);
                   } else if (key == "cwd") {
                     if (auto cwd = read_text(value, key_path, "a directory")) workers.cwd = *cwd;
                   } else if (key == "env") {
                     read_worker_env(value, key_path, workers.env);
                   } else if (key == "port_base") {
                     read_port_base(value, key_path, workers.port_base);
                   } else if (key == "ready") {
                     read_worker_ready(value, key_path, workers.ready);
                   } else if (key == "stop") {
                     read_worker_stop(value, key_path, workers.stop);
                   } else if (key == "restart") {
                     read_worker_restart(value, key_path, workers.restart);
                   } else if (key == "max_in_flight") {
                     read_max_in_flight(value, key_path, workers.max_in_flight);
                   }
                 });
  }

  // A list of words (argv), or one string split like a shell would split it.
  void read_command(const YAML::Node& node, const std::string& path,
                    std::vector<std::string>& command) {
    if (node.IsScalar()) {
      auto text = read_text(node, path, "a command");
      if (!text) return;
      SplitCommand split = split_command(*text);
      if (!split.ok()) {
        fail(path, node, split.error);
        return;
      }
      command = std::move(split.argv);
      return;
    }
    if (!node.IsSequence()) {
      fail(path, node, "expected a command: a list of words or one string, got " + kind_of(node));
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string word_path = indexed(path, i);
      remember(word_path, node[i].Mark());
      auto word = read_text(node[i], word_path, "a word of the command");
      if (!word) {
        failed_.insert(path);
        continue;
      }
      command.push_back(std::move(*word));
    }
  }

  void read_worker_count(const YAML::Node& node, const std::string& path, unsigned& count) {
    auto text = read_text(node, path, "max or a positive whole number");
    if (!text) return;
    if (*text == "max") {
      count = 0;
      return;
    }
    auto value = parse_unsigned(*text);
    if (!value || *value == 0) {
      fail(path, node, "expected max or a positive whole number, got '" + *text + "'");
      return;
    }
    count = *value;
  }

  // A map of variable names to values; the names are the app's, so any valid name goes.
  void read_worker_env(const YAML::Node& node, const std::string& path,
                       std::vector<std::pair<std::string, std::string>>& env) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      fail(path, node, "expected a map of variable names to values, got " + kind_of(node));
      return;
    }
    std::map<std::string, int> seen_on_line;
    for (const auto& entry : node) {
      const YAML::Node key_node = entry.first;
      const YAML::Node value = entry.second;
      if (!key_node.IsScalar()) {
        report(path, key_node, "variable names must be plain names, got " + kind_of(key_node));
        continue;
      }
      const std::string& name = key_node.Scalar();
      const std::string key_path = child(path, name);
      remember(key_path, value.IsNull() ? key_node.Mark() : value.Mark());
      if (!is_env_name(name)) {
        report(key_path, key_node,
               "not a variable name (letters, digits and _, not starting with a digit)");
        continue;
      }
      if (auto [first, inserted] = seen_on_line.emplace(name, position_of(key_node.Mark()).line);
          !inserted) {
        report(key_path, key_node,
               "repeated key (first given on line " + std::to_string(first->second) + ")");
        continue;
      }
      if (value.IsNull()) {
        env.emplace_back(name, "");
        continue;
      }
      if (auto text = read_text(value, key_path, "a value")) env.emplace_back(name, *text);
    }
  }

  void read_port_base(const YAML::Node& node, const std::string& path, std::uint16_t& base) {
    auto value = read_count(node, path);
    if (!value) return;
    if (*value > 65535) {
      fail(path, node, "expected a port 0..65535, got " + std::to_string(*value));
      return;
    }
    base = static_cast<std::uint16_t>(*value);
  }

  void read_worker_ready(const YAML::Node& node, const std::string& path, WorkerReady& ready) {
    for_each_key(node, path, worker_ready_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "timeout") {
                     if (auto duration = read_duration(value, key_path)) ready.timeout = *duration;
                     return;
                   }
                   auto text = read_text(value, key_path, "port or message");
                   if (!text) return;
                   if (*text == "port") {
                     ready.when = ReadyWhen::port;
                   } else if (*text == "message") {
                     ready.when = ReadyWhen::message;
                   } else if (auto near = suggest(*text, ready_when_names)) {
                     fail(key_path, value,
                          "unknown value '" + *text + "'; did you mean '" + *near + "'?");
                   } else {
                     fail(key_path, value,
                          "unknown value '" + *text +
                              "' (expected port: accepts TCP, or message: sends "
                              "{\"ready\":true})");
                   }
                 });
  }

  void read_worker_stop(const YAML::Node& node, const std::string& path, WorkerStop& stop) {
    for_each_key(node, path, worker_stop_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "timeout") {
                     if (auto duration = read_duration(value, key_path)) stop.timeout = *duration;
                     return;
                   }
                   auto text = read_text(value, key_path, "a signal name such as SIGTERM");
                   if (!text) return;
                   auto signal = parse_signal_name(*text);
                   if (!signal) {
                     fail(key_path, value,
                          "unknown signal '" + *text +
                              "' (expected SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 or "
                              "SIGKILL)");
                     return;
                   }
                   stop.signal = signal->name;
                   stop.signal_number = signal->number;
                 });
  }

  void read_worker_restart(const YAML::Node& node, const std::string& path,
                           WorkerRestart& restart) {
    for_each_key(node, path, worker_restart_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "crash_loop") {
                     if (auto count = read_unsigned(value, key_path)) restart.crash_loop = *count;
                     return;
                   }
                   auto duration = read_duration(value, key_path);
                   if (!duration) return;
                   if (key == "backoff") restart.backoff = *duration;
                   if (key == "max_backoff") restart.max_backoff = *duration;
                   if (key == "reset_after") restart.reset_after = *duration;
                   if (key == "min_uptime") restart.min_uptime = *duration;
                 });
  }

  // `auto` or a whole number of requests, at least 1.
  void read_max_in_flight(const YAML::Node& node, const std::string& path, MaxInFlight& limit) {
    if (node.IsScalar() && node.Scalar() == "auto") {
      limit = MaxInFlight{};
      return;
    }
    if (!node.IsScalar()) {
      fail(path, node, "expected auto or a whole number of requests");
      return;
    }
    auto count = read_unsigned(node, path);
    if (!count) return;
    if (*count < 1) {
      fail(path, node, "must be at least 1 (or auto)");
      return;
    }
    limit.adaptive = false;
    limit.fixed = *count;
  }

  static bool is_env_name(std::string_view name) {
    if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
  }

  void read_balance(const YAML::Node& node, const std::string& path, Balance& balance) {
    auto text = read_text(node, path, "round_robin, least_loaded or sticky");
    if (!text) return;
    if (*text == "round_robin") {
      balance = Balance::round_robin;
    } else if (*text == "least_loaded") {
      balance = Balance::least_loaded;
    } else if (*text == "sticky") {
      balance = Balance::sticky;
    } else if (auto near = suggest(*text, balance_names)) {
      fail(path, node, "unknown balance '" + *text + "'; did you mean '" + *near + "'?");
    } else {
      fail(path, node,
           "unknown balance '" + *text + "' (expected round_robin, least_loaded or sticky)");
    }
  }

  // One of `names` (index), or a problem with a suggestion.
  std::optional<std::size_t> read_choice(const YAML::Node& node, const std::string& path,
                                         Keys names) {
    const std::string expected = joined(names);
    auto text = read_text(node, path, "one of " + expected);
    if (!text) return std::nullopt;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (*text == names[i]) return i;
    if (auto near = suggest(*text, names)) {
      fail(path, node, "unknown value '" + *text + "'; did you mean '" + *near + "'?");
    } else {
      fail(path, node, "unknown value '" + *text + "' (expected one of " + expected + ")");
    }
    return std::nullopt;
  }

  void read_sticky(const YAML::Node& node, const std::string& path, Sticky& sticky) {
    unsigned sources = 0;
    RedisKeys seen;
    for_each_key(node, path, sticky_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (!read_redis_key(key, value, key_path, sticky.redis,
                                       sticky.connect_timeout, sticky.command_timeout, seen))
                     read_sticky_key(key, value, key_path, sticky, sources);
                 });
    finish_redis_keys(node, path, seen, sticky.redis);
    if (failed_.count(path) || failed_.count(child(path, "store"))) return;
    if (sticky.store == StickyStore::redis && !seen.has_redis) {
      report(child(path, "store"), node[std::string("store")],
             "store: redis needs sticky.redis, the server's URL (e.g. redis://127.0.0.1:6379/0)");
    } else if (sticky.store != StickyStore::redis && seen.has_redis) {
      report(child(path, "redis"), node[std::string("redis")],
             "only with store: redis (the pins are kept in the proxy otherwise)");
    }
  }

  void read_sticky_key(std::string_view key, const YAML::Node& value, const std::string& path,
                       Sticky& sticky, unsigned& sources) {
    if (key == "mode") {
      if (auto i = read_choice(value, path, sticky_mode_names))
        sticky.mode = static_cast<StickyMode>(*i);
    } else if (key == "fallback") {
      if (auto i = read_choice(value, path, fallback_names))
        sticky.fallback = *i == 0 ? Balance::round_robin : Balance::least_loaded;
    } else if (key == "on_unavailable") {
      if (auto i = read_choice(value, path, on_unavailable_names))
        sticky.on_unavailable = static_cast<OnUnavailable>(*i);
    } else if (key == "hold_timeout" || key == "idle_ttl" || key == "max_age") {
      auto duration = read_duration(value, path);
      if (!duration) return;
      if (key == "hold_timeout") sticky.hold_timeout = *duration;
      if (key == "idle_ttl") sticky.idle_ttl = *duration;
      if (key == "max_age") sticky.max_age = *duration;
    } else if (key == "max_entries") {
      if (auto count = read_count(value, path)) sticky.max_entries = *count;
    } else if (key == "store") {
      if (auto i = read_choice(value, path, sticky_store_names))
        sticky.store = static_cast<StickyStore>(*i);
    } else if (key == "prefix") {
      if (auto text = read_text(value, path, "a Redis key prefix")) sticky.store_prefix = *text;
    } else if (key == "balance_factor") {
      if (auto factor = read_unsigned(value, path)) sticky.balance_factor = *factor;
    } else if (key == "cookie" || key == "key" || key == "key_env") {
      auto text = read_text(value, path, "a name");
      if (!text) return;
      if (key == "cookie") sticky.cookie = *text;
      if (key == "key") sticky.key = *text;
      if (key == "key_env") sticky.key_env = *text;
    } else if (key == "secure") {
      read_cookie_secure(value, path, sticky.secure);
    } else if (key == "header" || key == "query" || key == "client_ip") {
      if (++sources > 1) {
        report(path, value, "only one of header, query and client_ip may be given");
        return;
      }
      if (key == "client_ip") {
        auto text = read_text(value, path, "true or false");
        if (!text) return;
        if (*text == "true" || *text == "yes") {
          sticky.key_source = StickyKeySource::client_ip;
        } else if (*text != "false" && *text != "no") {
          fail(path, value, "expected true or false, got '" + *text + "'");
        }
        return;
      }
      auto text = read_text(value, path, key == "header" ? "a header name" : "a parameter name");
      if (!text) return;
      sticky.key_source = key == "header" ? StickyKeySource::header : StickyKeySource::query;
      sticky.key_name = *text;
    }
  }

  // A list of addresses and CIDR ranges (one alone may be written without the list).
  void read_trusted_proxies(const YAML::Node& node, const std::string& path,
                            std::vector<Cidr>& ranges) {
    auto read_one = [&](const YAML::Node& entry, const std::string& entry_path) {
      remember(entry_path, entry.Mark());
      auto text = read_text(entry, entry_path, "an address or CIDR range such as 10.0.0.0/8");
      if (!text) return;
      std::string why;
      if (auto range = parse_cidr(*text, &why)) {
        ranges.push_back(std::move(*range));
        return;
      }
      fail(entry_path, entry,
           "not an address or CIDR range: '" + *text + "'" + (why.empty() ? "" : " (" + why + ")"));
    };
    if (node.IsScalar()) {
      read_one(node, path);
    } else if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) read_one(node[i], indexed(path, i));
    } else if (!node.IsNull()) {
      fail(path, node,
           "expected a list of addresses and CIDR ranges, such as [127.0.0.1, 10.0.0.0/8], got " +
               kind_of(node));
    }
  }

  void read_cookie_secure(const YAML::Node& node, const std::string& path, CookieSecure& secure) {
    auto text = read_text(node, path, "auto, true or false");
    if (!text) return;
    if (*text == "auto") {
      secure = CookieSecure::automatic;
    } else if (*text == "true" || *text == "yes") {
      secure = CookieSecure::always;
    } else if (*text == "false" || *text == "no") {
      secure = CookieSecure::never;
    } else {
      fail(path, node, "expected auto, true or false, got '" + *text + "'");
    }
  }

  void read_timeouts(const YAML::Node& node, const std::string& path, Timeouts& timeouts) {
    for_each_key(node, path, timeout_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   auto duration = read_duration(value, key_path);
                   if (!duration) return;
                   if (key == "connect") timeouts.connect = *duration;
                   if (key == "handshake") timeouts.handshake = *duration;
                   if (key == "client_header") timeouts.client_header = *duration;
                   if (key == "idle") timeouts.idle = *duration;
                   if (key == "upstream_response") timeouts.upstream_response = *duration;
                   if (key == "drain") timeouts.drain = *duration;
                   if (key == "queue") timeouts.queue = *duration;
                 });
  }

  void read_limits(const YAML::Node& node, const std::string& path, Limits& limits) {
    for_each_key(node, path, limit_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "max_connections") {
                     if (auto count = read_count(value, key_path)) limits.max_connections = *count;
                     return;
                   }
                   if (key == "max_queue") {
                     if (auto count = read_count(value, key_path)) limits.max_queue = *count;
                     return;
                   }
                   auto size = read_size(value, key_path);
                   if (!size) return;
                   if (key == "max_header_bytes") limits.max_header_bytes = *size;
                   if (key == "max_body_bytes") limits.max_body_bytes = *size;
                 });
  }

  void read_http2(const YAML::Node& node, const std::string& path, Http2& h2) {
    for_each_key(node, path, http2_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "stream_window") {
                     auto size = read_size(value, key_path);
                     if (!size) return;
                     // RFC 9113 6.9.2: a window is at most 2^31-1; below 16 KiB a stream
                     // cannot take one full DATA frame.
                     if (*size < 16384 || *size > 0x7fffffff)
                       fail(key_path, value, "expected a size from 16KiB to 2GiB");
                     else
                       h2.stream_window = *size;
                     return;
                   }
                   auto count = read_count(value, key_path);
                   if (!count) return;
                   if (*count == 0) {
                     fail(key_path, value, "expected at least 1");
                     return;
                   }
                   if (key == "max_concurrent_streams") {
                     if (*count > 10000) fail(key_path, value, "expected at most 10000");
                     else h2.max_concurrent_streams = static_cast<std::uint32_t>(*count);
                   }
                   if (key == "reset_burst") h2.reset_burst = *count;
                   if (key == "reset_rate") h2.reset_rate = *count;
                 });
  }

  void read_health(const YAML::Node& node, const std::string& path, Health& health) {
    health.enabled = node.IsNull() || node.IsMap();
    for_each_key(node, path, health_keys,
                 [&](std::string_view key, const YAML::Node& value, const std::string& key_path) {
                   if (key == "path") {
                     if (auto text = read_text(value, key_path, "a URL path")) health.path = *text;
                     return;
                   }
                   auto duration = read_duration(value, key_path);
                   if (!duration) return;
                   if (key == "interval") health.interval = *duration;
                   if (key == "timeout") health.timeout = *duration;
                 });
  }

  // A scalar with ${VAR} replaced; `expected` describes what belongs there, for messages.
  std::optional<std::string> read_text(const YAML::Node& node, const std::string& path,
                                       std::string_view expected) {
    if (!node.IsScalar()) {
      fail(path, node, "expected " + std::string(expected) + ", got " + kind_of(node));
      return std::nullopt;
    }
    EnvSubstitution substituted = substitute_env(node.Scalar());
    if (!substituted.ok()) {
      fail(path, node, substituted.error);
      return std::nullopt;
    }
    return std::move(substituted.text);
  }

  std::optional<Address> read_address(const YAML::Node& node, const std::string& path) {
    remember(path, node.Mark());
    auto text = read_text(node, path, "an address (host:port or [ipv6]:port)");
    if (!text) return std::nullopt;
    return address_from(*text, node, path);
  }

  std::optional<Address> address_from(const std::string& text, const YAML::Node& node,
                                      const std::string& path) {
    if (auto address = parse_address(text)) return address;
    std::string message = "not an address: '" + text + "' ";
    if (text.find(':') == text.npos) {
      message += "(no port; expected host:port)";
    } else if (!text.starts_with('[') && text.find(':') != text.rfind(':')) {
      message += "(an IPv6 address needs brackets, as in [::1]:8080)";
    } else {
      message += "(expected host:port or [ipv6]:port, port 0..65535)";
    }
    fail(path, node, std::move(message));
    return std::nullopt;
  }

  std::optional<Duration> read_duration(const YAML::Node& node, const std::string& path) {
    auto text = read_text(node, path, "a duration such as 250ms, 2s or 1m30s");
    if (!text) return std::nullopt;
    if (auto duration = parse_duration(*text)) return duration;
    if (is_whole_number(*text)) {
      fail(path, node, "'" + *text + "' has no unit; write " + *text + "s or " + *text + "ms");
    } else {
      fail(path, node,
           "not a duration: '" + *text +
               "' (expected whole numbers with h, m, s or ms, as in "
               "250ms, 2s, 1m30s)");
    }
    return std::nullopt;
  }

  std::optional<std::uint64_t> read_size(const YAML::Node& node, const std::string& path) {
    auto text = read_text(node, path, "a size such as 16KiB or 100MiB");
    if (!text) return std::nullopt;
    if (auto size = parse_size(*text)) return size;
    fail(path, node,
         "not a size: '" + *text +
             "' (expected bytes, or a whole number with B, KiB, MiB, GiB, "
             "KB, MB or GB)");
    return std::nullopt;
  }

  std::optional<std::uint64_t> read_count(const YAML::Node& node, const std::string& path) {
    auto text = read_text(node, path, "a whole number");
    if (!text) return std::nullopt;
    std::uint64_t value = 0;
    const char* end = text->data() + text->size();
    auto [next, error] = std::from_chars(text->data(), end, value);
    if (!is_whole_number(*text) || error != std::errc{} || next != end) {
      fail(path, node, "expected a whole number, got '" + *text + "'");
      return std::nullopt;
    }
    return value;
  }

  std::optional<unsigned> read_unsigned(const YAML::Node& node, const std::string& path) {
    auto count = read_count(node, path);
    if (!count) return std::nullopt;
    if (*count > std::numeric_limits<unsigned>::max()) {
      fail(path, node, "'" + std::to_string(*count) + "' is too large");
      return std::nullopt;
    }
    return static_cast<unsigned>(*count);
  }

  static std::optional<unsigned> parse_unsigned(const std::string& text) {
    unsigned value = 0;
    const char* end = text.data() + text.size();
    auto [next, error] = std::from_chars(text.data(), end, value);
    if (!is_whole_number(text) || error != std::errc{} || next != end) return std::nullopt;
    return value;
  }

  void remember(const std::string& path, const YAML::Mark& mark) {
    positions_.emplace(path, position_of(mark));
  }

  // The position of `key`, else of its nearest parent that has one.
  Position position_for(std::string key) const {
    for (;;) {
      if (auto it = positions_.find(key); it != positions_.end()) return it->second;
      auto cut = key.find_last_of(".[");
      if (cut == std::string::npos) return {};
      key.resize(cut);
    }
  }

  // A problem that leaves the value at `path` unread (its default stays in Config).
  void fail(const std::string& path, const YAML::Node& node, std::string message) {
    report(path, node, std::move(message));
    failed_.insert(path);
  }

  // A problem beside a value that was read, such as an unknown or repeated key.
  // A null node's mark points past it, so the problem goes where its key was remembered.
  void report(const std::string& path, const YAML::Node& node, std::string message) {
    Position at = node.IsNull() ? position_for(path) : position_of(node.Mark());
    problems_.push_back(Problem{file_, at.line, at.column, path, std::move(message)});
  }

  std::string file_;
  std::vector<Problem> problems_;
  std::map<std::string, Position> positions_;  // key path -> where its value is written
  std::set<std::string> failed_;               // key paths already reported as unreadable
};

}  // namespace

LoadResult load_string(std::string_view text, const std::string& name) {
  KeyPositions ignored;
  return load_string(text, name, ignored);
}

LoadResult load_string(std::string_view text, const std::string& name, KeyPositions& positions) {
  LoadResult result;
  Config config;
  config.source = name;
  Reader reader(name);
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (!documents.empty()) reader.read_root(documents.front(), config);
    if (documents.size() > 1) {
      reader.report_at(documents[1],
                       "expected one YAML document, found " + std::to_string(documents.size()));
    }
  } catch (const YAML::Exception& error) {
    // A syntax error: nothing after it can be trusted, so it is the only problem reported.
    Position at = position_of(error.mark);
    result.problems.push_back(Problem{name, at.line, at.column, "", error.msg});
    return result;
  } catch (const std::exception& error) {
    result.problems.push_back(Problem{name, 0, 0, "", error.what()});
    return result;
  }
  reader.add_checked(validate(config));
  positions = reader.positions();
  result.problems = reader.take_problems();
  if (result.problems.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_file(const std::string& path) {
  KeyPositions ignored;
  return load_file(path, ignored);
}

void locate(Problem& problem, const KeyPositions& positions) {
  std::string key = problem.key;
  for (;;) {
    if (auto it = positions.find(key); it != positions.end()) {
      problem.line = it->second.first;
      problem.column = it->second.second;
      return;
    }
    auto cut = key.find_last_of(".[");
    if (cut == std::string::npos) return;
    key.resize(cut);
  }
}

LoadResult load_file(const std::string& path, KeyPositions& positions) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    int error = errno;
    return LoadResult{
        std::nullopt,
        {Problem{path, 0, 0, "", "cannot read file: " + std::string(std::strerror(error))}}};
  }
  std::string text;
  char buffer[8192];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, got);
  int error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (error != 0) {
    return LoadResult{
        std::nullopt,
        {Problem{path, 0, 0, "", "cannot read file: " + std::string(std::strerror(error))}}};
  }
  return load_string(text, path, positions);
}

}  // namespace corral::config
