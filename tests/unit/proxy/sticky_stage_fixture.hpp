#pragma once
// One thread's sticky stage of a given mode over a table of slots, and requests through it as
// the session runs them (request header, choose upstream, response header), without sockets.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "balancer/slot_table.hpp"
#include "proxy/client_address.hpp"
#include "proxy/request_context.hpp"
#include "proxy/sticky_hash_stage.hpp"
#include "proxy/sticky_insert_stage.hpp"
#include "proxy/sticky_learn_stage.hpp"

namespace corral::proxy::testing {

inline constexpr const char* insert_key = "0123456789abcdef0123456789abcdef";

inline config::Sticky learn_config() {
  config::Sticky s;
  s.cookie = "connect.sid";
  s.fallback = config::Balance::round_robin;
  return s;
}

inline config::Sticky insert_config() {
  config::Sticky s;
  s.mode = config::StickyMode::insert;
  s.key = insert_key;
  s.fallback = config::Balance::round_robin;
  s.max_age = std::chrono::hours(1);
  return s;
}

inline config::Sticky hash_config(config::StickyKeySource source, std::string name) {
  config::Sticky s;
  s.mode = config::StickyMode::hash;
  s.key_source = source;
  if (source == config::StickyKeySource::cookie)
    s.cookie = name;
  else
    s.key_name = name;
  return s;
}

// A hold's waits without a thread: each wait for a change runs `on_wait` (the test changes the
// slots there) and returns at once.
struct FakeWait final : UpstreamWait {
  awaitable<void> wait_for_change(std::chrono::steady_clock::time_point) override {
    ++waits;
    if (on_wait) on_wait();
    co_return;
  }
  bool connection_draining() const override { return draining; }
  const tcp::endpoint& slot_endpoint(balancer::SlotId) const override { return endpoint; }

  std::function<void()> on_wait;
  int waits = 0;
  bool draining = false;
  tcp::endpoint endpoint;
};

// One request in flight: its header, its client and what the stages know of it.
struct Flight {
  Flight(const config::Config& cfg, std::vector<std::string> cookies, std::string target,
         const char* client = "10.0.0.7") {
    req.method(http::verb::get);
    req.target(target);
    req.version(11);
    for (const auto& c : cookies) req.insert(http::field::cookie, c);
    forwarded.start(cfg, boost::asio::ip::make_address(client));
    r.peer_ip = client;
    r.forwarded = &forwarded;
    r.reset(req, true, false);
    forwarded.read(req, r.peer_ip);  // as the rewrite stage does before the sticky stage
    view = {req.method_string(), req.target(), {}, {}, {}};
  }

  http::request<http::empty_body, Fields> req;
  ForwardedClient forwarded;
  RequestContext r;
  balancer::RequestView view;
};

struct StickyFixture {
  explicit StickyFixture(config::Sticky s, std::size_t slots = 3)
      : table(std::vector<unsigned>(slots, 1)) {
    config.balance = config::Balance::sticky;
    config.sticky = std::move(s);
    balancer = balancer::make_balancer(config, table);
    router = std::make_unique<StickyRouter>(*config.sticky, &affinity, nullptr, *balancer);
    switch (config.sticky->mode) {
      case config::StickyMode::learn:
        stage = std::make_unique<StickyLearnStage>(*router);
        break;
      case config::StickyMode::insert:
        stage = std::make_unique<StickyInsertStage>(*router, 16 * 1024);
        break;
      case config::StickyMode::hash:
        stage = std::make_unique<StickyHashStage>(*router);
        break;
    }
  }

  // A new request with these Cookie header values through the request header stage; the
  // request's context stays `current` until the next.
  Flight& begin(std::vector<std::string> cookies, std::string target = "/") {
    current = std::make_unique<Flight>(config, std::move(cookies), std::move(target));
    EXPECT_EQ(stage->on_request_header(current->r), StageVerdict::proceed);
    current->r.wait = &wait;
    return *current;
  }

  // The upstream the stage chooses for `f`; `verdict` is what it answered.
  balancer::Pick choose(Flight& f) {
    balancer::Pick pick;
    verdict = stage->choose_upstream(f.r, f.view, pick);
    return pick;
  }

  // begin + choose.
  balancer::Pick request(std::vector<std::string> cookies, std::string target = "/") {
    return choose(begin(std::move(cookies), std::move(target)));
  }

  // The response header from `slot` for `f` (the current request by default).
  void respond(Flight& f, balancer::SlotId slot, balancer::PickOutcome outcome,
               std::vector<std::string> set_cookies) {
    res = {};
    for (const auto& c : set_cookies) res.insert(http::field::set_cookie, c);
    f.r.slot = slot;
    f.r.pick_outcome = outcome;
    EXPECT_EQ(stage->on_response_header(f.r, res), StageVerdict::proceed);
  }
  void respond(balancer::SlotId slot, balancer::PickOutcome outcome,
               std::vector<std::string> set_cookies) {
    respond(*current, slot, outcome, std::move(set_cookies));
  }

  // Runs an awaitable of the stage to its end.
  template <class T>
  T run(awaitable<T> a) {
    boost::asio::io_context ioc;
    T out{};
    boost::asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      out = v;
    });
    ioc.run();
    return out;
  }

  config::Config config;
  balancer::SlotTable table;
  std::unique_ptr<balancer::Balancer> balancer;
  session::AffinityTable affinity;
  std::unique_ptr<StickyRouter> router;
  std::unique_ptr<StickyStage> stage;
  FakeWait wait;
  std::unique_ptr<Flight> current;
  ChoiceVerdict verdict = ChoiceVerdict::pass;
  http::response<http::empty_body, Fields> res;
};

}  // namespace corral::proxy::testing
