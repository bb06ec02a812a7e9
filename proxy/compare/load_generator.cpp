#include "proxy/compare/load_generator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>

#include "proxy/compare/simulated_user.hpp"

namespace corral::compare {

namespace asio = boost::asio;

struct LoadGenerator::State {
  asio::io_context io{1};
  UserContext users;
  std::uint64_t seed = 0;
  bool finished = false;
};

namespace {

RequestLine line_or(const std::string& text) {
  return parse_request_line(text).value_or(RequestLine{"GET", "/"});
}

}  // namespace

LoadGenerator::LoadGenerator(const Scenario& scenario, std::uint16_t port, Clock::time_point start,
                             std::uint64_t seed)
    : state_(std::make_unique<State>()) {
  auto& u = state_->users;
  u.scenario = &scenario;
  u.io = &state_->io;
  u.endpoint = asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port);
  u.start = start;
  u.deadline = start + scenario.duration;
  u.login = line_or(scenario.requests.login);
  u.me = line_or(scenario.requests.me);
  u.cart_add = line_or(scenario.requests.cart_add);
  u.cart = line_or(scenario.requests.cart);
  u.logout = line_or(scenario.requests.logout);
  u.plain = RequestLine{"GET", scenario.plain_target.empty() ? "/" : scenario.plain_target};
  u.requests = &requests_;
  u.failed = &failed_;
  u.lost = &lost_;
  state_->seed = seed;
}

LoadGenerator::~LoadGenerator() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void LoadGenerator::run() {
  auto& s = *state_;
  for (std::uint32_t i = 0; i < s.users.scenario->users; ++i) {
    asio::co_spawn(s.io, run_user(s.users, i, s.seed * 1000003ull + i), asio::detached);
  }
  thread_ = std::thread([&s] { s.io.run(); });
}

void LoadGenerator::stop() {
  if (!state_) return;
  asio::post(state_->io, [s = state_.get()] { s->users.stopping = true; });
}

const LoadStats& LoadGenerator::finish() {
  if (thread_.joinable()) thread_.join();
  return state_->users.stats;
}

}  // namespace corral::compare
