#pragma once
// The whole corral configuration as plain structs. Filled by config/load.cpp, checked by
// config/validate.cpp; nothing here knows about YAML.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/cidr.hpp"

namespace corral::config {

using Duration = std::chrono::milliseconds;

// A host and port as written in the file ("127.0.0.1:8080", "[::1]:8080", "localhost:80").
struct Address {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  std::string text;  // as written, for messages and logs
};

// TLS versions a listener accepts at least.
enum class TlsVersion { v1_2, v1_3 };

// One certificate chain and its private key (PEM files; relative paths are taken from the
// config file's directory).
struct TlsCertificate {
  std::string cert;
  std::string key;
};

// TLS on a listener: `tls: { cert, key }` for one certificate, or `tls: { certificates: [...] }`
// for several, chosen by the name the client asks for (SNI); the first is the default.
struct ListenerTls {
  std::vector<TlsCertificate> certificates;  // at least one
  TlsVersion min_version = TlsVersion::v1_2;
  // Protocols offered by ALPN, in the server's order of preference.
  std::vector<std::string> alpn{"h2", "http/1.1"};
  bool session_tickets = true;  // resumption by ticket, with keys rotated by the proxy
};

// One address corral accepts clients on, plain or TLS.
struct Listener {
  Address address;
  std::optional<ListenerTls> tls;
  // Plain listeners: HTTP/2 with prior knowledge (a connection that opens with the HTTP/2
  // preface), beside HTTP/1.1. TLS listeners offer h2 through ALPN instead.
  bool h2c = false;
};

// HTTP/2 towards clients (`http2:`): what one connection may hold at once.
struct Http2 {
  std::uint32_t max_concurrent_streams = 100;
  std::uint64_t stream_window = 256 * 1024;  // request body bytes a stream takes unread
  // Stream resets a client may cause: `reset_burst` at once, then `reset_rate` per second;
  // beyond, the connection ends with GOAWAY (the rapid-reset defence).
  std::uint64_t reset_burst = 200;
  std::uint64_t reset_rate = 33;
};

// TLS towards an upstream: verified against `ca` (empty: the system's CAs) unless
// verify is false; `sni` is the name sent and checked (empty: the address's host).
struct UpstreamTls {
  bool verify = true;
  std::string ca;
  std::string sni;
};

// A service corral fronts but did not start.
struct Upstream {
  Address address;
  unsigned weight = 1;
  std::optional<UpstreamTls> tls;
};

enum class Balance { round_robin, least_loaded, sticky };

// Sticky sessions (balance: sticky): where a session's pin comes from.
enum class StickyMode {
  learn,   // learned from the app's own Set-Cookie of `cookie`, kept in the proxy's table
  insert,  // corral's own signed corral_affinity cookie, no state in the proxy
  hash,    // consistent hashing of the key onto the slots, no state at all
};

// What a request whose pinned slot cannot serve (down, draining, gone, or already tried) gets.
enum class OnUnavailable {
  failover,  // placed anew with the fallback (counted as re-homed)
  hold,      // waits (bounded) for the slot, then fails over
  strict,    // answered 503
};

// Where hash mode (and learn mode, always the cookie) takes a request's session key from.
enum class StickyKeySource { cookie, header, query, client_ip };

// Where learn mode keeps its pins: the proxy's own table, or that table as a cache of Redis.
enum class StickyStore { local, redis };

// A Redis server corral talks to: sessions.redis, or sticky.redis with sticky.store: redis.
struct RedisTarget {
  bool tls = false;  // rediss://
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 6379;
  std::string user;      // empty: AUTH with the password alone (or no AUTH)
  std::string password;  // empty: no AUTH
  unsigned db = 0;       // SELECT on connect when not 0
  // rediss:// only (sessions.tls, sticky.tls): the CA file that signs the server's certificate
  // (empty: the system's CAs), or no verification at all.
  std::string tls_ca;
  bool tls_insecure_skip_verify = false;
};

// When corral_affinity (insert mode) carries Secure: `automatic` when a trusted proxy says the
// client spoke https (X-Forwarded-Proto), or always, or never.
enum class CookieSecure { automatic, always, never };

struct Sticky {
  std::string cookie;  // the app's session cookie (learn; hash by default)
  StickyMode mode = StickyMode::learn;
  Balance fallback = Balance::least_loaded;  // places new and re-homed sessions
  OnUnavailable on_unavailable = OnUnavailable::failover;
  Duration hold_timeout{2000};
  Duration idle_ttl{30 * 60 * 1000};      // learn: an entry unused this long is dropped; 0: never
  std::uint64_t max_entries = 1'000'000;  // learn: LRU beyond this
  StickyKeySource key_source = StickyKeySource::cookie;
  std::string key_name;                   // header or query parameter name for those sources
  std::string key;                        // insert: HMAC key, as written (after ${VAR})
  std::string key_env;                    // insert: or the variable that holds it
  Duration max_age{24 * 60 * 60 * 1000};  // insert: the cookie's lifetime
  unsigned balance_factor = 0;            // hash: bounded loads in percent; 0 = off
  // learn with store: redis: the pins also live in Redis (keys `store_prefix` + the key's
  // fingerprint), shared by every corral instance that uses the same server and prefix.
  StickyStore store = StickyStore::local;
  RedisTarget redis;
  std::string store_prefix = "corral:affinity:";
  Duration connect_timeout{500};
  Duration command_timeout{200};

  CookieSecure secure = CookieSecure::automatic;  // insert: Secure on corral_affinity
};

struct Timeouts {
  Duration connect{2000};
  Duration handshake{10000};  // a TLS client's handshake, from accept
  Duration client_header{10000};
  Duration idle{60000};
  Duration upstream_response{60000};
  Duration drain{30000};
  // How long a request may wait in the proxy's queue for a worker slot (cluster mode) before it
  // is answered 503 with Retry-After, as HAProxy's `timeout queue`.
  Duration queue{10000};
};

struct Limits {
  std::uint64_t max_header_bytes = 16 * 1024;
  std::uint64_t max_body_bytes = 100ull * 1024 * 1024;
  std::uint64_t max_connections = 10000;
  std::uint64_t max_queue = 10000;  // requests waiting for a worker slot; beyond: 503 at once
};

// Optional active health check of each upstream.
struct Health {
  bool enabled = false;
  std::string path = "/health";
  Duration interval{2000};
  Duration timeout{1000};
};

// When a started worker counts as ready: its port accepts TCP, or it sent {"ready":true}/"ready".
enum class ReadyWhen { port, message };

struct WorkerReady {
  ReadyWhen when = ReadyWhen::port;
  Duration timeout{30000};
};

// How a worker is stopped: `signal` to its process group, then SIGKILL after `timeout`.
struct WorkerStop {
  std::string signal = "SIGTERM";  // as written, normalised to the SIG prefix
  int signal_number = 15;
  Duration timeout{10000};
};

// When a crashed worker is started again: `backoff` doubling (with jitter) up to `max_backoff`
// over failed starts in a row. Only a worker that dies before it became ready, or within
// `min_uptime` of its start, is a failed start; `crash_loop` of them in a row mark the slot
// errored. A worker that ran at least `reset_after` starts the count anew.
struct WorkerRestart {
  Duration backoff{100};
  Duration max_backoff{15000};
  Duration reset_after{30000};
  Duration min_uptime{1000};
  unsigned crash_loop = 5;
};

// How many requests a worker slot is handed at once; the rest wait in the proxy's queue.
// `adaptive` (the default, `max_in_flight: auto`) follows the worker's latency; else `fixed`.
struct MaxInFlight {
  bool adaptive = true;
  unsigned fixed = 0;
};

// The app's processes corral starts and supervises, one per slot 0..count-1.
struct Workers {
  std::vector<std::string> command;  // argv; argv[0] is looked up in PATH
  unsigned count = 0;                // 0 = max: one per core
  std::string cwd;                   // as written; relative to the config file's directory
  std::vector<std::pair<std::string, std::string>> env;  // in file order
  std::uint16_t port_base = 0;       // 0 = a free loopback port per worker; else slot i: base+i
  WorkerReady ready;
  WorkerStop stop;
  WorkerRestart restart;
  MaxInFlight max_in_flight;
};

// What a request gets while the session store cannot answer in time.
enum class StoreDown { fail_closed, fail_open };

// Shared-state mode: sessions kept in Redis by corral, handed to whichever worker serves.
struct Sessions {
  RedisTarget redis;
  std::string cookie = "corral_sid";
  Duration ttl{30 * 60 * 1000};  // sliding: every request that loads the session renews it
  std::string header = "X-Corral-Session";
  StoreDown on_store_down = StoreDown::fail_closed;
  Duration connect_timeout{500};
  Duration command_timeout{200};
  CookieSecure secure = CookieSecure::automatic;  // Secure on the session cookie
  // Each proxy thread's cache of loaded sessions (kept coherent by Redis's client-side
  // caching); 0 entries: no cache, every load goes to Redis.
  std::uint64_t cache_max_entries = 10000;
  std::uint64_t cache_max_bytes = 16 * 1024 * 1024;
};

struct Config {
  std::string source;                 // the file it came from ("<embedded>" for the demo)
  std::vector<Listener> listen;       // at least one
  unsigned threads = 0;               // 0 = auto (one per core)
  std::optional<Address> admin;       // /healthz /readyz /metrics
  std::vector<Upstream> upstreams;    // services corral fronts; or else `workers`
  std::optional<Workers> workers;     // processes corral starts; or else `upstreams`
  Balance balance = Balance::round_robin;
  std::optional<Sticky> sticky;  // with balance: sticky
  Timeouts timeouts;
  Limits limits;
  Http2 http2;
  Health health;
  unsigned retries = 2;               // further tries on another upstream after a failed connect
  std::string access_log = "stdout";  // off | stdout | a file path
  std::optional<Sessions> sessions;   // shared-state mode when set
  // Peers (proxies in front of corral) whose X-Forwarded-For and X-Forwarded-Proto are
  // believed: the sticky client_ip key, Secure on corral_affinity, the scheme the app is told.
  std::vector<Cidr> trusted_proxies;
  // SIGTERM to stop: /readyz answers 503 at once, requests are still accepted and served for
  // this long (load balancers and Kubernetes endpoints take time to stop sending), then the
  // drain of timeouts.drain begins. 0 (the default): the drain begins at once.
  Duration shutdown_delay{0};
};

// One problem found in a file, with where it is.
struct Problem {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string key; // dotted key path, e.g. "timeouts.connect" or "upstreams[1].address"
  std::string message;

  // "corral.yaml:4:12: timeouts.connect: not a duration: '2 parsecs'"
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;  // set only when problems is empty
  std::vector<Problem> problems;
};

}  // namespace corral::config
