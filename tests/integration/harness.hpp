#pragma once
// The integration-test harness: real processes (the corral binary, Node backends) on free
// loopback ports, and small HTTP clients to talk to them. Every wait is bounded; a harness
// call that cannot do what it was asked throws HarnessError, which gtest reports as a failure
// of the running test.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace corral::test {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// The corral binary the tests start: $CORRAL_TEST_BINARY when set (the sanitizer pass runs these
// tests against its instrumented build), else the one built beside them.
const char* corral_binary();
#define CORRAL_BINARY (::corral::test::corral_binary())

// A harness step that could not be done (timeout, early exit, I/O error).
struct HarnessError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where a captured line came from.
enum class Stream { out, err, any };

// A child process this test started, with its stdout and stderr captured line by line.
class Process {
 public:
  // argv[0] is looked up in PATH. `env` adds to (or overrides) the test's own environment.
  explicit Process(std::vector<std::string> argv,
                   std::vector<std::pair<std::string, std::string>> env = {});
  ~Process();  // kills (SIGKILL) whatever is left of the process and its group, and reaps it
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return argv_.front(); }

  // Waits for the next line on `stream` (after the last one a wait on the same stream
  // matched) that matches `re`; returns the match and its groups. nullopt on timeout or when
  // the process closed its output without such a line.
  std::optional<std::vector<std::string>> try_wait_for_line(const std::regex& re, Millis timeout,
                                                            Stream stream = Stream::any);
  // Same, but a timeout throws HarnessError naming the pattern and the output so far.
  std::vector<std::string> wait_for_line(const std::regex& re, Millis timeout,
                                         Stream stream = Stream::any);
  // Whether some line seen so far matches (does not move any cursor).
  bool has_line(const std::regex& re, Stream stream = Stream::any) const;

  // Waits until the process (and every process sharing its output) closed stdout and stderr.
  bool wait_eof(Millis timeout);

  // All text captured so far on `stream` (any = both, interleaved by line).
  std::string output(Stream stream = Stream::any) const;
  // The last `n` lines of both streams, for failure messages.
  std::string tail(std::size_t n = 40) const;

  void signal(int sig);  // to this pid only
  void terminate() { signal(SIGTERM); }
  void kill() { signal(SIGKILL); }

  // Waits up to `timeout` for the process to exit; returns its exit code (128+N when killed
  // by signal N), or nullopt if it is still running.
  std::optional<int> wait_exit(Millis timeout);
  bool running();

  // Peak resident set (VmHWM, KiB) over this process and every process of its group (corral
  // may run its data plane in a child), read from /proc.
  std::uint64_t peak_rss_kib() const;
  std::vector<pid_t> group_pids() const;

 private:
  void read_loop(int out_fd, int err_fd);
  void add_text(Stream s, std::string_view text);

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_;
  bool stop_reader_ = false;  // guarded by mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string partial_[2];
  std::vector<std::string> lines_[3];  // out, err, any
  std::string text_[2];
  std::size_t cursor_[3] = {0, 0, 0};
  bool eof_ = false;
};

// Runs a command to completion (bounded by `timeout`, then killed).
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult run_command(std::vector<std::string> argv, Millis timeout = 20s,
                      std::vector<std::pair<std::string, std::string>> env = {});

// A node backend.js process tagged with a name. `port` 0 picks a free one; `mode` "reset"
// makes it drop every request's connection before answering.
class Backend {
 public:
  explicit Backend(std::string name, std::uint16_t port = 0, std::string mode = "normal");
  std::uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  Process& process() { return *process_; }

  // The backend's /count, asked directly (not through corral).
  struct Counts {
    long seen = 0;
    long complete = 0;
    long client_errors = 0;  // malformed bytes
    long aborted = 0;        // connections ended mid-request
  };
  Counts counts();
  // Waits until the backend prints "slow begin" (a /slow request arrived).
  bool wait_slow_begin(Millis timeout);

 private:
  std::string name_;
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

// A loopback TCP port that is bound but not listening: connecting to it is refused, and no
// other process can take it while this object lives.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Unbinds the port so that a backend can be started on it.
  void release();

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// The parts of a corral YAML a test varies; render() fills in the rest (port 0 everywhere).
struct CorralConfig {
  struct Upstream {
    std::string address;
    unsigned weight = 1;
    std::string tls;  // the upstream's tls: map as YAML, or empty
  };
  // An address, or a YAML map written as is when it starts with '{' (a listener with tls:).
  std::vector<std::string> listen = {"127.0.0.1:0"};
  std::string threads = "1";
  std::string admin = "127.0.0.1:0";
  std::vector<Upstream> upstreams;
  std::string balance = "round_robin";
  std::map<std::string, std::string> timeouts = {{"connect", "1s"},
                                                 {"client_header", "5s"},
                                                 {"idle", "30s"},
                                                 {"upstream_response", "30s"},
                                                 {"drain", "10s"}};
  std::map<std::string, std::string> limits = {
      {"max_header_bytes", "16KiB"}, {"max_body_bytes", "100MiB"}, {"max_connections", "1000"}};
  std::optional<std::string> retries = "2";
  std::string access_log = "stdout";
  std::string extra;  // appended verbatim (e.g. a health: block)

  void add(const Backend& b, unsigned weight = 1) { upstreams.push_back({b.address(), weight, {}}); }
  void add(const std::string& address, unsigned weight = 1) {
    upstreams.push_back({address, weight, {}});
  }
  std::string render() const;
};

// A temporary directory removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

// A running `corral run -c FILE`, started from a rendered config, ready when constructed.
class Corral {
 public:
  explicit Corral(const CorralConfig& config, Millis ready_timeout = 15s);
  explicit Corral(const std::string& yaml, Millis ready_timeout = 15s);
  ~Corral();  // on a failed test, prints the tail of corral's output

  std::uint16_t port() const { return ports_.at(0); }
  const std::vector<std::uint16_t>& ports() const { return ports_; }
  const std::vector<std::string>& hosts() const { return hosts_; }
  std::uint16_t admin_port() const { return admin_port_; }
  Process& process() { return *process_; }
  const std::filesystem::path& config_path() const { return config_path_; }

  // GET on the admin listener (a fresh connection each time).
  http::response<http::string_body> admin_get(const std::string& target, Millis timeout = 5s);
  std::string metrics();
  // Sum of the samples of `name` whose labels include all of `labels`; nullopt when there is
  // no such sample.
  std::optional<double> metric(const std::string& name,
                               const std::map<std::string, std::string>& labels = {});
  // Polls /metrics until `pred(value)` holds (value 0 when absent) or the timeout passes;
  // returns the last value seen.
  double wait_metric(const std::string& name, const std::map<std::string, std::string>& labels,
                     const std::function<bool(double)>& pred, Millis timeout = 5s);

 private:
  void start(const std::string& yaml, Millis ready_timeout);

  TempDir dir_;
  std::filesystem::path config_path_;
  std::unique_ptr<Process> process_;
  std::vector<std::uint16_t> ports_;
  std::vector<std::string> hosts_;
  std::uint16_t admin_port_ = 0;
};

// The text of a /proc file, or "" when it cannot be read whole (the process went away while it
// was read: std::ifstream would throw from inside an istreambuf_iterator then).
std::string read_proc_file(const std::string& path);

// The resident memory of a process's group (corral: the master and the proxy), in bytes.
std::uint64_t group_rss_bytes(const Process& p);

// Parses Prometheus text: sum of samples of `name` whose labels include `labels`.
std::optional<double> prometheus_value(std::string_view text, const std::string& name,
                                       const std::map<std::string, std::string>& labels);

// One HTTP/1.1 client connection (keep-alive) with every operation bounded by a timeout.
// Asio's blocking calls ignore SO_RCVTIMEO (they poll again without a limit), so each
// operation is started asynchronously on a private io_context and run to completion with
// beast::tcp_stream's expiry: to the caller it is a plain synchronous call.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, Millis timeout = 5s, std::string host = "127.0.0.1");
  ~HttpClient();

  void set_timeout(Millis timeout) { timeout_ = timeout; }
  int connects() const { return connects_; }
  bool is_open() const;
  void connect();  // (re)opens the connection; throws on failure
  beast::error_code try_connect();
  void close();

  // Sends `req` (Host, and Content-Length for a body, filled in when absent) and reads the
  // response; reconnects first when the previous response closed the connection. Throws on
  // an I/O error or a timeout.
  http::response<http::string_body> request(http::request<http::string_body> req);
  // Same, but reports an I/O error or timeout in `ec` instead of throwing.
  http::response<http::string_body> request(http::request<http::string_body> req,
                                            beast::error_code& ec);
  http::response<http::string_body> get(
      const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Raw access, for framing the tests write by hand.
  beast::error_code send_raw(std::string_view bytes);
  void shutdown_send();
  // Reads one response (header and body) from the connection.
  http::response<http::string_body> read_response(beast::error_code& ec, bool head = false);
  // Reads until `delim` is in what was received (leftovers stay buffered for later reads).
  std::string read_until(std::string_view delim, beast::error_code& ec);
  // Reads exactly `n` bytes.
  std::string read_exactly(std::size_t n, beast::error_code& ec);
  // Reads until the peer closes or `timeout` passes.
  struct ReadAll {
    std::string data;
    bool closed = false;     // EOF or reset seen
    bool timed_out = false;  // gave up waiting
  };
  ReadAll read_until_close(Millis timeout);
  // Reads whatever arrives next (at least one byte) or fails.
  std::string read_some(beast::error_code& ec);

  beast::tcp_stream& stream() { return *stream_; }
  beast::flat_buffer& buffer() { return buffer_; }
  std::string host_header() const;
  Millis timeout() const { return timeout_; }

  // Runs the asynchronous operation started by `start(handler)` to completion, bounded by
  // `timeout`; returns its error (beast::error::timeout when the expiry fired).
  template <class Start>
  beast::error_code run(Start&& start, Millis timeout, std::size_t* n = nullptr);

 private:
  std::uint16_t port_;
  Millis timeout_;
  std::string host_;
  asio::io_context ioc_;
  std::unique_ptr<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  bool keep_alive_ = false;
  int connects_ = 0;
};

template <class Start>
beast::error_code HttpClient::run(Start&& start, Millis timeout, std::size_t* n) {
  beast::error_code result = asio::error::would_block;
  bool done = false;
  stream_->expires_after(timeout);
  start([&](beast::error_code ec, std::size_t bytes) {
    result = ec;
    done = true;
    if (n) *n = bytes;
  });
  ioc_.restart();
  // The expiry bounds the operation; run_for is only a guard against a harness bug.
  ioc_.run_for(timeout + 2s);
  if (!done) {
    stream_->close();
    ioc_.restart();
    ioc_.run_for(1s);
    if (!done) throw HarnessError("client operation did not finish after close");
  }
  stream_->expires_never();
  return result;
}

// One GET on a fresh connection.
http::response<http::string_body> http_get(std::uint16_t port, const std::string& target,
                                           Millis timeout = 5s);

// The JSON object in a body (throws HarnessError when it is not one).
boost::json::object parse_json_object(std::string_view body);

// Helpers for bodies and checksums.
std::string sha256_hex(std::string_view data);
// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  void update(const void* data, std::size_t n);
  std::string hex();

 private:
  void* ctx_;
};

// The backend's /bytes pattern (byte i = i % 251), `len` bytes starting at `offset`.
std::string pattern_bytes(std::uint64_t offset, std::size_t len);

// Lower-cased copy.
std::string lower(std::string_view s);

// A header value of a raw response text ("" when absent; name matched case-insensitively).
std::string raw_header(std::string_view response, std::string_view name);
// The status code of a raw response text (0 when it does not start with a status line).
int raw_status(std::string_view response);

// Whether ::1 can be bound on this machine.
bool ipv6_loopback_available();

// Environment override for sizes (e.g. CORRAL_IT_BIG_BYTES), or `fallback`.
std::uint64_t env_u64(const char* name, std::uint64_t fallback);

}  // namespace corral::test
