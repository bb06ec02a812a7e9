#include "tests/integration/harness.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

extern char** environ;

namespace corral::test {

namespace {

// The tests write to sockets the proxy may have closed; that must be an error code, not a
// signal that ends the test binary.
const bool sigpipe_ignored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& part : v) {
    if (!s.empty()) s += ' ';
    s += part;
  }
  return s;
}

int index_of(Stream s) { return static_cast<int>(s); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Process

Process::Process(std::vector<std::string> argv,
                 std::vector<std::pair<std::string, std::string>> env)
    : argv_(std::move(argv)) {
  if (argv_.empty()) throw HarnessError("Process: empty argv");

  // Everything the child needs is built before fork: after fork in a threaded program only
  // async-signal-safe calls are allowed.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    std::string_view key = entry.substr(0, eq);
    bool overridden =
        std::any_of(env.begin(), env.end(), [&](const auto& kv) { return kv.first == key; });
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);

  int out[2], err[2], exec_err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(exec_err, O_CLOEXEC) != 0) {
    throw HarnessError(errno_text("pipe2"));
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw HarnessError(errno_text("fork"));
  if (pid == 0) {
    // Child: own process group (so its descendants can be found and killed), dies with the
    // test binary, default signal dispositions (the test ignores SIGPIPE; exec keeps that).
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    std::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execvpe(args[0], args.data(), envp.data());
    int e = errno;
    (void)!write(exec_err[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so it holds whichever side runs first
  pid_ = pid;
  close(out[1]);
  close(err[1]);
  close(exec_err[1]);
  int child_errno = 0;
  ssize_t got = read(exec_err[0], &child_errno, sizeof child_errno);
  close(exec_err[0]);
  if (got == static_cast<ssize_t>(sizeof child_errno)) {
    close(out[0]);
    close(err[0]);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    throw HarnessError("cannot run " + join(argv_) + ": " + std::strerror(child_errno));
  }
  reader_ = std::thread([this, o = out[0], e = err[0]] { read_loop(o, e); });
}

Process::~Process() {
  if (pid_ > 0) {
    // Kill every process of the group this one leads (corral's own children included), by
    // pid, while the leader is unreaped or members remain, so no pid can have been reused.
    if (!exit_code_) ::kill(pid_, SIGKILL);
    for (pid_t p : group_pids()) ::kill(p, SIGKILL);
    if (!exit_code_) {
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  {
    std::lock_guard lock(mu_);
    stop_reader_ = true;
  }
  if (reader_.joinable()) reader_.join();
}

void Process::add_text(Stream s, std::string_view text) {
  int i = index_of(s);
  text_[i].append(text);
  partial_[i].append(text);
  std::size_t pos;
  while ((pos = partial_[i].find('\n')) != std::string::npos) {
    std::string line = partial_[i].substr(0, pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    partial_[i].erase(0, pos + 1);
    lines_[i].push_back(line);
    lines_[index_of(Stream::any)].push_back(line);
  }
}

void Process::read_loop(int out_fd, int err_fd) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    {
      std::lock_guard lock(mu_);
      if (stop_reader_) break;
    }
    int r = poll(fds, 2, 100);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        std::lock_guard lock(mu_);
        add_text(i == 0 ? Stream::out : Stream::err, std::string_view(buf, n));
        cv_.notify_all();
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  std::lock_guard lock(mu_);
  for (Stream s : {Stream::out, Stream::err}) {
    int i = index_of(s);
    if (!partial_[i].empty()) {
      lines_[i].push_back(partial_[i]);
      lines_[index_of(Stream::any)].push_back(partial_[i]);
      partial_[i].clear();
    }
  }
  eof_ = true;
  cv_.notify_all();
}

std::optional<std::vector<std::string>> Process::try_wait_for_line(const std::regex& re,
                                                                   Millis timeout, Stream stream) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const int i = index_of(stream);
  std::unique_lock lock(mu_);
  for (;;) {
    while (cursor_[i] < lines_[i].size()) {
      const std::string& line = lines_[i][cursor_[i]++];
      std::smatch m;
      if (std::regex_search(line, m, re)) {
        std::vector<std::string> groups;
        for (const auto& g : m) groups.push_back(g.str());
        return groups;
      }
    }
    if (eof_) return std::nullopt;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
        cursor_[i] >= lines_[i].size()) {
      return std::nullopt;
    }
  }
}

std::vector<std::string> Process::wait_for_line(const std::regex& re, Millis timeout,
                                                Stream stream) {
  auto m = try_wait_for_line(re, timeout, stream);
  if (!m) {
    bool ended;
    {
      std::lock_guard lock(mu_);
      ended = eof_;
    }
    throw HarnessError("no matching line from " + join(argv_) + " within " +
                       std::to_string(timeout.count()) + " ms" +
                       (ended ? " (its output ended)" : "") + "; output so far:\n" + tail());
  }
  return *m;
}

bool Process::wait_eof(Millis timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return eof_; });
}

bool Process::has_line(const std::regex& re, Stream stream) const {
  std::lock_guard lock(mu_);
  const auto& lines = lines_[index_of(stream)];
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return std::regex_search(l, re); });
}

std::string Process::output(Stream stream) const {
  std::lock_guard lock(mu_);
  if (stream != Stream::any) return text_[index_of(stream)];
  std::string all;
  for (const auto& l : lines_[index_of(Stream::any)]) all += l + "\n";
  return all;
}

std::string Process::tail(std::size_t n) const {
  std::lock_guard lock(mu_);
  const auto& lines = lines_[index_of(Stream::any)];
  std::string s;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    s += "  | " + lines[i] + "\n";
  }
  return s;
}

void Process::signal(int sig) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

std::optional<int> Process::wait_exit(Millis timeout) {
  if (exit_code_) return exit_code_;
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      // Lines the process wrote just before it exited may still be in the pipe: let the reader
      // take them (bounded: a surviving child may hold the pipe open).
      wait_eof(500ms);
      return exit_code_;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

bool Process::running() { return pid_ > 0 && !wait_exit(0ms); }

std::string read_proc_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      text.clear();
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

std::uint64_t group_rss_bytes(const Process& p) {
  std::uint64_t total = 0;
  for (pid_t pid : p.group_pids()) {
    std::istringstream status(read_proc_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("VmRSS:", 0) == 0) total += std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return total;
}

std::vector<pid_t> Process::group_pids() const {
  std::vector<pid_t> pids;
  if (pid_ <= 0) return pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const std::string text = read_proc_file(entry.path() / "stat");
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    auto close_paren = text.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(text.substr(close_paren + 1));
    std::string state;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pid_) pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

std::uint64_t Process::peak_rss_kib() const {
  std::uint64_t peak = 0;
  for (pid_t p : group_pids()) {
    std::istringstream status(read_proc_file("/proc/" + std::to_string(p) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmHWM:", 0) == 0) {
        peak = std::max<std::uint64_t>(peak, std::strtoull(line.c_str() + 6, nullptr, 10));
      }
    }
  }
  return peak;
}

RunResult run_command(std::vector<std::string> argv, Millis timeout,
                      std::vector<std::pair<std::string, std::string>> env) {
  Process p(std::move(argv), std::move(env));
  RunResult r;
  auto code = p.wait_exit(timeout);
  if (!code) {
    p.kill();
    p.wait_exit(5s);
    throw HarnessError("command did not finish within " + std::to_string(timeout.count()) +
                       " ms; output:\n" + p.tail());
  }
  r.exit_code = *code;
  // The process has exited; its pipes reach EOF once the reader drains them.
  p.wait_eof(5s);
  r.out = p.output(Stream::out);
  r.err = p.output(Stream::err);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Backend

Backend::Backend(std::string name, std::uint16_t port, std::string mode) : name_(std::move(name)) {
  process_ = std::make_unique<Process>(std::vector<std::string>{
      "node", std::string(CORRAL_TEST_DATA) + "/backend.js", name_, std::to_string(port), mode});
  auto m = process_->wait_for_line(std::regex("^listening (\\d+)$"), 15s, Stream::out);
  port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
}

Backend::Counts Backend::counts() {
  auto res = http_get(port_, "/count");
  if (res.result_int() != 200) throw HarnessError("backend /count failed");
  auto obj = parse_json_object(res.body());
  Counts c;
  c.seen = obj.at("seen").to_number<long>();
  c.complete = obj.at("complete").to_number<long>();
  c.client_errors = obj.at("client_errors").to_number<long>();
  c.aborted = obj.at("aborted").to_number<long>();
  return c;
}

bool Backend::wait_slow_begin(Millis timeout) {
  return process_->try_wait_for_line(std::regex("^slow begin"), timeout, Stream::out).has_value();
}

// ---------------------------------------------------------------------------------------------
// ClosedPort

ClosedPort::ClosedPort() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw HarnessError(errno_text("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw HarnessError(errno_text("bind"));
  }
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

ClosedPort::~ClosedPort() { release(); }

void ClosedPort::release() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

// ---------------------------------------------------------------------------------------------
// Config and temporary files

std::string CorralConfig::render() const {
  std::ostringstream y;
  y << "listen:\n";
  for (const auto& l : listen) {
    if (l.starts_with("{"))
      y << "  - " << l << "\n";  // a map, e.g. with tls:
    else
      y << "  - \"" << l << "\"\n";
  }
  y << "threads: " << threads << "\n";
  y << "admin: \"" << admin << "\"\n";
  y << "upstreams:\n";
  for (const auto& u : upstreams) {
    y << "  - { address: \"" << u.address << "\", weight: " << u.weight
      << (u.tls.empty() ? "" : ", tls: " + u.tls) << " }\n";
  }
  y << "balance: " << balance << "\n";
  y << "timeouts:\n";
  for (const auto& [k, v] : timeouts) y << "  " << k << ": " << v << "\n";
  y << "limits:\n";
  for (const auto& [k, v] : limits) y << "  " << k << ": " << v << "\n";
  if (retries) y << "retries: " << *retries << "\n";
  y << "access_log: " << access_log << "\n";
  y << extra;
  return y.str();
}

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "corral-it-XXXXXX").string();
  if (!mkdtemp(templ.data())) throw HarnessError(errno_text("mkdtemp"));
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const {
  auto p = path_ / name;
  std::ofstream f(p, std::ios::binary);
  f << content;
  if (!f) throw HarnessError("cannot write " + p.string());
  return p;
}

// ---------------------------------------------------------------------------------------------
// Corral

Corral::Corral(const CorralConfig& config, Millis ready_timeout) {
  start(config.render(), ready_timeout);
}

Corral::Corral(const std::string& yaml, Millis ready_timeout) { start(yaml, ready_timeout); }

void Corral::start(const std::string& yaml, Millis ready_timeout) {
  config_path_ = dir_.write("corral.yaml", yaml);
  process_ = std::make_unique<Process>(
      std::vector<std::string>{CORRAL_BINARY, "run", "-c", config_path_.string()});
  const std::regex listening(R"(listening on https?://(\[[^\]]+\]|[^:/\s]+):(\d+))");
  const std::regex admin(R"(admin on http://(\[[^\]]+\]|[^:/\s]+):(\d+))");
  const std::regex ready(R"(\bready\b)");
  const std::regex any_line(".*");
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    auto line = process_->try_wait_for_line(any_line, std::max(left, Millis(0)));
    if (!line) {
      auto code = process_->wait_exit(500ms);
      throw HarnessError(std::string("corral did not get ready") +
                         (code ? " (exited with " + std::to_string(*code) + ")" : " in time") +
                         "; config:\n" + yaml + "output:\n" + process_->tail());
    }
    const std::string& text = line->at(0);
    std::smatch m;
    if (std::regex_search(text, m, listening)) {
      std::string host = m[1].str();
      if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
      hosts_.push_back(host);
      ports_.push_back(static_cast<std::uint16_t>(std::stoi(m[2].str())));
    } else if (std::regex_search(text, m, admin)) {
      admin_port_ = static_cast<std::uint16_t>(std::stoi(m[2].str()));
    } else if (std::regex_search(text, ready) && !ports_.empty() && admin_port_ != 0) {
      return;
    }
  }
}

Corral::~Corral() {
  if (::testing::Test::HasFailure() && process_) {
    std::cerr << "---- corral output (last lines) ----\n"
              << process_->tail(60) << "---- config ----\n";
    std::ifstream f(config_path_);
    std::cerr << f.rdbuf() << "\n";
  }
}

http::response<http::string_body> Corral::admin_get(const std::string& target, Millis timeout) {
  return http_get(admin_port_, target, timeout);
}

std::string Corral::metrics() {
  auto res = admin_get("/metrics");
  if (res.result_int() != 200) {
    throw HarnessError("/metrics answered " + std::to_string(res.result_int()));
  }
  return res.body();
}

std::optional<double> Corral::metric(const std::string& name,
                                     const std::map<std::string, std::string>& labels) {
  return prometheus_value(metrics(), name, labels);
}

double Corral::wait_metric(const std::string& name,
                           const std::map<std::string, std::string>& labels,
                           const std::function<bool(double)>& pred, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  double v = 0;
  for (;;) {
    v = metric(name, labels).value_or(0);
    if (pred(v) || std::chrono::steady_clock::now() >= deadline) return v;
    std::this_thread::sleep_for(20ms);
  }
}

std::optional<double> prometheus_value(std::string_view text, const std::string& name,
                                       const std::map<std::string, std::string>& labels) {
  std::optional<double> sum;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    if (line.compare(0, i, name) != 0 || i != name.size()) continue;
    std::map<std::string, std::string> found;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) break;
        std::string key = line.substr(i, eq - i);
        std::size_t j = eq + 1;
        std::string value;
        if (j < line.size() && line[j] == '"') {
          ++j;
          while (j < line.size() && line[j] != '"') {
            if (line[j] == '\\' && j + 1 < line.size()) ++j;
            value += line[j++];
          }
          ++j;  // closing quote
        }
        found[key] = value;
        i = j;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    bool match = std::all_of(labels.begin(), labels.end(), [&](const auto& kv) {
      auto it = found.find(kv.first);
      return it != found.end() && it->second == kv.second;
    });
    if (!match) continue;
    while (i < line.size() && line[i] == ' ') ++i;
    double v = std::strtod(line.c_str() + i, nullptr);
    sum = sum.value_or(0) + v;
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// HttpClient

HttpClient::HttpClient(std::uint16_t port, Millis timeout, std::string host)
    : port_(port), timeout_(timeout), host_(std::move(host)) {}

HttpClient::~HttpClient() { close(); }

bool HttpClient::is_open() const { return stream_ && stream_->socket().is_open(); }

std::string HttpClient::host_header() const {
  if (host_.find(':') != std::string::npos) return "[" + host_ + "]:" + std::to_string(port_);
  return host_ + ":" + std::to_string(port_);
}

beast::error_code HttpClient::try_connect() {
  close();
  stream_ = std::make_unique<beast::tcp_stream>(ioc_);
  buffer_.consume(buffer_.size());
  // Beast's reads ask for the buffer's free capacity (at least 512 bytes); without room
  // reserved, a big body would be read 512 bytes per system call.
  buffer_.reserve(256 * 1024);
  asio::ip::tcp::endpoint ep(asio::ip::make_address(host_), port_);
  auto ec = run([&](auto h) { stream_->async_connect(ep, [h](beast::error_code e) { h(e, 0); }); },
                timeout_);
  if (!ec) {
    ++connects_;
    keep_alive_ = true;
  }
  return ec;
}

void HttpClient::connect() {
  auto ec = try_connect();
  if (ec) throw HarnessError("connect to " + host_header() + ": " + ec.message());
}

void HttpClient::close() {
  if (stream_) {
    beast::error_code ec;
    stream_->socket().close(ec);
  }
  keep_alive_ = false;
}

http::response<http::string_body> HttpClient::request(http::request<http::string_body> req,
                                                      beast::error_code& ec) {
  ec = {};
  if (!is_open() || !keep_alive_) {
    ec = try_connect();
    if (ec) return {};
  }
  if (req.find(http::field::host) == req.end()) req.set(http::field::host, host_header());
  if (req.find(http::field::content_length) == req.end() &&
      req.find(http::field::transfer_encoding) == req.end()) {
    req.prepare_payload();
  }
  ec = run([&](auto h) { http::async_write(*stream_, req, h); }, timeout_);
  if (ec) {
    close();
    return {};
  }
  auto res = read_response(ec, req.method() == http::verb::head);
  if (ec) {
    close();
    return {};
  }
  keep_alive_ = res.keep_alive();
  if (!keep_alive_) close();
  return res;
}

http::response<http::string_body> HttpClient::request(http::request<http::string_body> req) {
  beast::error_code ec;
  std::string what = std::string(req.method_string()) + " " + std::string(req.target());
  auto res = request(std::move(req), ec);
  if (ec) throw HarnessError(what + " via " + host_header() + ": " + ec.message());
  return res;
}

http::response<http::string_body> HttpClient::get(
    const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> req{http::verb::get, target, 11};
  for (const auto& [k, v] : headers) req.insert(k, v);
  return request(std::move(req));
}

beast::error_code HttpClient::send_raw(std::string_view bytes) {
  if (!is_open()) {
    if (auto ec = try_connect()) return ec;
  }
  return run(
      [&](auto h) { asio::async_write(*stream_, asio::buffer(bytes.data(), bytes.size()), h); },
      timeout_);
}

void HttpClient::shutdown_send() {
  beast::error_code ec;
  if (stream_) stream_->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

http::response<http::string_body> HttpClient::read_response(beast::error_code& ec, bool head) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.header_limit(1024 * 1024);
  if (head) parser.skip(true);
  ec = run([&](auto h) { http::async_read(*stream_, buffer_, parser, h); }, timeout_);
  if (ec) return {};
  return parser.release();
}

std::string HttpClient::read_until(std::string_view delim, beast::error_code& ec) {
  ec = {};
  for (;;) {
    std::string_view have(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    auto pos = have.find(delim);
    if (pos != std::string_view::npos) {
      std::string out(have.substr(0, pos + delim.size()));
      buffer_.consume(pos + delim.size());
      return out;
    }
    std::size_t n = 0;
    ec = run([&](auto h) { stream_->async_read_some(buffer_.prepare(16384), h); }, timeout_, &n);
    if (ec) return std::string(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.commit(n);
  }
}

std::string HttpClient::read_exactly(std::size_t want, beast::error_code& ec) {
  ec = {};
  while (buffer_.size() < want) {
    std::size_t n = 0;
    ec = run(
        [&](auto h) {
          stream_->async_read_some(
              buffer_.prepare(std::max<std::size_t>(want - buffer_.size(), 16384)), h);
        },
        timeout_, &n);
    if (ec) break;
    buffer_.commit(n);
  }
  std::size_t take = std::min(want, buffer_.size());
  std::string out(static_cast<const char*>(buffer_.data().data()), take);
  buffer_.consume(take);
  return out;
}

std::string HttpClient::read_some(beast::error_code& ec) {
  ec = {};
  if (buffer_.size() == 0) {
    std::size_t n = 0;
    ec = run([&](auto h) { stream_->async_read_some(buffer_.prepare(65536), h); }, timeout_, &n);
    if (ec) return {};
    buffer_.commit(n);
  }
  std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  return out;
}

HttpClient::ReadAll HttpClient::read_until_close(Millis timeout) {
  ReadAll r;
  r.data.assign(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  if (!stream_) {
    r.closed = true;
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left <= Millis(0)) {
      r.timed_out = true;
      return r;
    }
    std::size_t n = 0;
    auto ec = run([&](auto h) { stream_->async_read_some(buffer_.prepare(65536), h); }, left, &n);
    buffer_.commit(n);
    r.data.append(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    if (ec == beast::error::timeout) {
      r.timed_out = true;
      return r;
    }
    if (ec) {
      r.closed = true;  // EOF, reset, or the socket is otherwise gone
      close();
      return r;
    }
  }
}

http::response<http::string_body> http_get(std::uint16_t port, const std::string& target,
                                           Millis timeout) {
  HttpClient c(port, timeout);
  return c.get(target);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

boost::json::object parse_json_object(std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) {
    throw HarnessError("not a JSON object: " + std::string(body.substr(0, 200)));
  }
  return v.as_object();
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(const void* data, std::size_t n) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n);
}

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += digits[md[i] >> 4];
    s += digits[md[i] & 15];
  }
  return s;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.hex();
}

std::string pattern_bytes(std::uint64_t offset, std::size_t len) {
  std::string s(len, '\0');
  unsigned v = static_cast<unsigned>(offset % 251);
  for (std::size_t i = 0; i < len; ++i) {
    s[i] = static_cast<char>(v);
    if (++v == 251) v = 0;
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string raw_header(std::string_view response, std::string_view name) {
  auto end = response.find("\r\n\r\n");
  std::string_view head = response.substr(0, end);
  const std::string want = lower(name) + ":";
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    std::size_t start = pos + 2;
    std::size_t next = head.find("\r\n", start);
    std::string_view line =
        head.substr(start, next == std::string_view::npos ? next : next - start);
    if (lower(line.substr(0, want.size())) == want) {
      std::string_view v = line.substr(want.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return std::string(v);
    }
    pos = next;
  }
  return {};
}

int raw_status(std::string_view response) {
  static const std::regex status_line(R"(^HTTP/1\.[01] (\d{3}) )");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(response.begin(), response.end(), m, status_line)) return 0;
  return std::stoi(m[1].str());
}

bool ipv6_loopback_available() {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

const char* corral_binary() {
  const char* chosen = std::getenv("CORRAL_TEST_BINARY");
  return chosen && *chosen ? chosen : CORRAL_BUILT_BINARY;
}

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 10);
}

}  // namespace corral::test
