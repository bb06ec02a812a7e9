#include "proxy/compare/corral_instance.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <deque>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "proxy/master/control_client.hpp"

namespace corral::compare {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

std::uint16_t port_of_url(std::string_view url) {
  auto colon = url.rfind(':');
  if (colon == std::string_view::npos) return 0;
  auto digits = url.substr(colon + 1);
  while (!digits.empty() && digits.back() == '/') digits.remove_suffix(1);
  unsigned v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size() || v > 65535) return 0;
  return static_cast<std::uint16_t>(v);
}

std::string tail_of_file(const std::string& path, std::size_t lines) {
  std::ifstream f(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(f, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  " + l + "\n";
  return out;
}

std::string self_binary() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/proc/self/exe") : p.string();
}

CorralInstance::CorralInstance(const std::string& dir, const std::string& config_yaml,
                               std::chrono::milliseconds ready_timeout)
    : config_path_(dir + "/corral.yaml"), log_path_(dir + "/corral.log") {
  {
    std::ofstream f(config_path_);
    f << config_yaml;
    if (!f) throw std::runtime_error("cannot write " + config_path_);
  }
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{self_binary(), "run", "-c", config_path_}, log_path_);
  const auto until = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (!process_->running()) break;
    if (auto s = status()) {
      const auto* master = s->if_contains("master");
      if (master && master->is_object()) {
        const auto& m = master->as_object();
        const auto* state = m.if_contains("state");
        if (state && state->is_string() && state->as_string() == "ready") {
          if (const auto* listen = m.if_contains("listen");
              listen && listen->is_array() && !listen->as_array().empty())
            port_ = port_of_url(listen->as_array()[0].as_string());
          if (const auto* admin = m.if_contains("admin"); admin && admin->is_string())
            admin_port_ = port_of_url(admin->as_string());
          if (port_) return;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const bool exited = !process_->running();
  process_->stop(std::chrono::milliseconds(3000));
  throw std::runtime_error(
      std::string(exited ? "corral exited before it was ready" : "corral was not ready in time") +
      "; the end of " + log_path_ + ":\n" + tail_of_file(log_path_));
}

CorralInstance::~CorralInstance() { stop(); }

std::optional<json::object> CorralInstance::status() const {
  std::optional<json::object> out;
  master::ControlRequest r;
  r.command = master::ControlCommand::status;
  master::call_master(config_path_, r, [&](const master::ControlReply& reply) {
    if (reply.kind != master::ControlReply::Kind::success) return;
    if (const auto* s = reply.fields.if_contains("status"); s && s->is_object())
      out = s->as_object();
  });
  return out;
}

std::string CorralInstance::reload() const {
  std::string message;
  master::ControlRequest r;
  r.command = master::ControlCommand::reload;
  auto call = master::call_master(config_path_, r, [&](const master::ControlReply& reply) {
    if (reply.kind != master::ControlReply::Kind::progress) message = reply.text;
  });
  if (!call.reached) return call.error;
  return message;
}

std::string CorralInstance::metrics() const {
  if (!admin_port_) return {};
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), admin_port_));
    http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res.result_int() == 200 ? res.body() : std::string();
  } catch (const std::exception&) {
    return {};
  }
}

void CorralInstance::stop() {
  if (!process_ || !process_->running()) return;
  master::ControlRequest r;
  r.command = master::ControlCommand::stop;
  std::thread asker([&] {
    master::call_master(
        config_path_, r, [](const auto&) {}, true);
  });
  // The master drains and stops its workers; TERM and KILL follow if it takes too long.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (process_->running() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  process_->stop(std::chrono::milliseconds(3000));
  asker.join();
}

}  // namespace corral::compare
