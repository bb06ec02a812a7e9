#include "tests/integration/async_load.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <thread>

namespace corral::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

double AsyncLoadResult::percentile_ms(double p) const {
  if (latencies_ms.empty()) return 0;
  std::vector<double> v = latencies_ms;
  auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

namespace {

struct Shared {
  tcp::endpoint endpoint;
  std::string target;
  std::atomic<bool> stop{false};
  AsyncLoadResult result;  // touched only on the load's thread
};

void fail(Shared& s, std::string what) {
  ++s.result.failed;
  if (s.result.failures.size() < 10) s.result.failures.push_back(std::move(what));
}

asio::awaitable<void> client(Shared& s) {
  auto nothrow = asio::as_tuple(asio::use_awaitable);
  auto executor = co_await asio::this_coro::executor;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  while (!s.stop.load()) {
    if (!stream) {
      stream.emplace(executor);
      stream->expires_after(std::chrono::seconds(10));
      auto [ec] = co_await stream->async_connect(s.endpoint, nothrow);
      if (ec) {
        fail(s, "connect: " + ec.message());
        stream.reset();
        continue;
      }
      buffer.clear();
    }
    http::request<http::empty_body> req{http::verb::get, s.target, 11};
    req.set(http::field::host, "127.0.0.1");
    const auto start = std::chrono::steady_clock::now();
    stream->expires_after(std::chrono::seconds(10));
    auto [wec, wn] = co_await http::async_write(*stream, req, nothrow);
    http::response<http::string_body> res;
    beast::error_code rec = wec;
    if (!rec) {
      auto [ec, n] = co_await http::async_read(*stream, buffer, res, nothrow);
      rec = ec;
    }
    if (rec) {
      if (!s.stop.load()) fail(s, "request: " + rec.message());
      stream.reset();
      continue;
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    s.result.latencies_ms.push_back(ms);
    if (res.result_int() / 100 == 2) {
      ++s.result.ok;
    } else {
      fail(s, std::to_string(res.result_int()) + " " + res.body());
    }
    if (!res.keep_alive()) stream.reset();
  }
}

}  // namespace

AsyncLoadResult run_async_load(std::uint16_t port, unsigned clients, Millis length,
                               const std::function<void()>& during, const std::string& target) {
  Shared s;
  s.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
  s.target = target;
  asio::io_context ioc(1);
  for (unsigned i = 0; i < clients; ++i) asio::co_spawn(ioc, client(s), asio::detached);
  const auto start = std::chrono::steady_clock::now();
  std::thread runner([&] { ioc.run(); });
  std::thread faults;
  if (during) faults = std::thread(during);
  std::this_thread::sleep_for(length);  // the load's length is the measurement, not a wait
  s.stop = true;
  s.result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (faults.joinable()) faults.join();
  // In-flight requests finish (bounded by their 10 s expiry); then every client returns.
  runner.join();
  return std::move(s.result);
}

}  // namespace corral::test
