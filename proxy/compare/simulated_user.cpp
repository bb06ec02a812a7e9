#include "proxy/compare/simulated_user.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

#include "proxy/compare/answer_check.hpp"

namespace corral::compare {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto request_timeout = std::chrono::seconds(10);

// The user's connection, cookies and what the user expects the server to remember.
class User {
 public:
  User(UserContext& c, std::uint32_t index, std::uint64_t seed)
      : c_(c), index_(index), rng_(seed), stream_(c.io->get_executor()) {}

  asio::awaitable<void> run() {
    // Spread the first logins over one think time, as users do not all arrive at once.
    co_await pause(std::uniform_int_distribution<long>(0, c_.scenario->think.count())(rng_));
    while (!over()) {
      if (!c_.scenario->plain_target.empty()) {
        co_await exchange(c_.plain, "");
      } else if (!logged_in_) {
        co_await log_in();
      } else {
        co_await one_request();
      }
      if (over()) break;
      const long think = c_.scenario->think.count();
      co_await pause(think > 0 ? std::uniform_int_distribution<long>(0, 2 * think)(rng_) : 0);
    }
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  bool over() const { return c_.stopping || Clock::now() >= c_.deadline; }

  asio::awaitable<void> pause(long ms) {
    if (ms <= 0) co_return;
    auto until = std::min(Clock::now() + std::chrono::milliseconds(ms), c_.deadline);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_at(until);
    beast::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // One exchange; status 0 when there was no answer.
  asio::awaitable<unsigned> exchange(const RequestLine& line, std::string_view item) {
    const std::string target = substitute(line.target, name_, item);
    http::request<http::empty_body> req{http::string_to_verb(line.method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::user_agent, "corral-compare");
    auto cookies = jar_.header();
    if (!cookies.empty()) req.set(http::field::cookie, cookies);
    if (req.method() == http::verb::post) req.content_length(0);
    req.keep_alive(true);

    const auto began = Clock::now();
    beast::error_code ec;
    if (!connected_) {
      stream_.expires_after(request_timeout);
      co_await stream_.async_connect(c_.endpoint, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return note_no_answer(line, target, "connect: " + ec.message(), began);
      connected_ = true;
    }
    stream_.expires_after(request_timeout);
    co_await http::async_write(stream_, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return note_no_answer(line, target, "write: " + ec.message(), began);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    co_await http::async_read(stream_, buffer_, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return note_no_answer(line, target, "read: " + ec.message(), began);
    auto& res = parser.get();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began);
    c_.stats.latency.record(static_cast<std::uint64_t>(micros.count()));
    count_request();
    const long long now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    for (const auto& field : res.base()) {
      if (field.name() == http::field::set_cookie) jar_.apply(field.value(), now_unix);
    }
    if (!res.keep_alive()) close();
    body_ = std::move(res.body());
    worker_.clear();
    if (!c_.scenario->app.worker_header.empty()) {
      if (auto it = res.find(c_.scenario->app.worker_header); it != res.end())
        worker_.assign(it->value());
    }
    const unsigned status = res.result_int();
    const bool plain = !c_.scenario->plain_target.empty();
    if (status != 200 && (plain || status != 401)) {
      fail(fmt::format("{} {}: status {}", line.method, target, status));
    }
    co_return status;
  }

  unsigned note_no_answer(const RequestLine& line, const std::string& target,
                          const std::string& why, Clock::time_point) {
    close();
    count_request();
    fail(fmt::format("{} {}: {}", line.method, target, why));
    return 0;
  }

  void close() {
    beast::error_code ec;
    stream_.socket().close(ec);
    buffer_.clear();
    connected_ = false;
  }

  std::size_t second() const {
    return static_cast<std::size_t>(
        std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - c_.start).count());
  }

  void count_request() {
    ++c_.stats.requests;
    ++c_.stats.second(second()).requests;
    c_.requests->fetch_add(1, std::memory_order_relaxed);
  }

  void fail(std::string what) {
    ++c_.stats.failed;
    ++c_.stats.second(second()).failed;
    c_.failed->fetch_add(1, std::memory_order_relaxed);
    c_.stats.note(fmt::format("{:.1f}s {}: failed: {}", seconds_in(), name_, what));
  }

  void lose(std::string_view what) {
    ++c_.stats.lost;
    ++c_.stats.second(second()).lost;
    c_.lost->fetch_add(1, std::memory_order_relaxed);
    c_.stats.note(fmt::format("{:.1f}s {}: session lost: {}", seconds_in(), name_, what));
    logged_in_ = false;
  }

  double seconds_in() const {
    return std::chrono::duration<double>(Clock::now() - c_.start).count();
  }

  asio::awaitable<void> log_in() {
    name_ = fmt::format("u{}s{}", index_, ++session_number_);
    items_.clear();
    unsure_.clear();
    requests_in_session_ = 0;
    const unsigned status = co_await exchange(c_.login, "");
    if (check_login(Answer{status, body_}) == Verdict::ok) {
      logged_in_ = true;
      session_worker_ = worker_;
      ++c_.stats.logins;
    }
  }

  // After a failed add the item may or may not be in the cart: the check then only asks for
  // the items whose adding was answered.
  asio::awaitable<void> one_request() {
    if (++requests_in_session_ > c_.scenario->session_requests) {
      co_await exchange(c_.logout, "");
      logged_in_ = false;
      co_return;
    }
    const int pick = std::uniform_int_distribution<int>(0, 99)(rng_);
    if (pick < 40) {
      const unsigned status = co_await exchange(c_.me, "");
      const Verdict v = check_me(Answer{status, body_}, name_);
      track_worker(v);
      if (v == Verdict::lost) lose(fmt::format("GET me answered {} {}", status, short_body()));
    } else if (pick < 70) {
      const std::string item = fmt::format("{}i{}", name_, items_.size() + unsure_.size() + 1);
      const unsigned status = co_await exchange(c_.cart_add, item);
      const Verdict v = check_cart(Answer{status, body_}, name_, items_);
      track_worker(v);
      if (v == Verdict::ok) {
        items_.push_back(item);
      } else if (v == Verdict::lost) {
        lose(fmt::format("cart add answered {} {}", status, short_body()));
      } else {
        unsure_.push_back(item);
      }
    } else {
      const unsigned status = co_await exchange(c_.cart, "");
      const Verdict v = check_cart(Answer{status, body_}, name_, items_);
      track_worker(v);
      if (v == Verdict::lost) lose(fmt::format("GET cart answered {} {}", status, short_body()));
    }
  }

  // A session's answers from another worker than its previous one.
  void track_worker(Verdict v) {
    if (v != Verdict::ok || worker_.empty()) return;
    if (!session_worker_.empty() && worker_ != session_worker_) ++c_.stats.moved;
    session_worker_ = worker_;
  }

  std::string short_body() const { return body_.substr(0, 80); }

  UserContext& c_;
  std::uint32_t index_;
  std::mt19937_64 rng_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
  CookieJar jar_;
  std::string name_;
  std::string body_;
  std::string worker_;          // who answered the last request (the app's worker header)
  std::string session_worker_;  // who answered the session's previous request
  bool logged_in_ = false;
  std::uint32_t session_number_ = 0;
  std::uint32_t requests_in_session_ = 0;
  std::vector<std::string> items_;
  std::vector<std::string> unsure_;
};

}  // namespace

asio::awaitable<void> run_user(UserContext& context, std::uint32_t index, std::uint64_t seed) {
  User user(context, index, seed);
  co_await user.run();
}

}  // namespace corral::compare
