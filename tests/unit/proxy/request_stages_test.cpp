// The request path's stages, one by one, on a RequestContext without sockets: guard, rewrite,
// sticky, metrics and access log, and the chain's order and choice of upstream. Each sticky
// mode's stage has its own tests (sticky_*_stage_test.cpp).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "balancer/slot_table.hpp"
#include "session/session_store.hpp"
#include "proxy/guard_stage.hpp"
#include "proxy/request_chain.hpp"
#include "proxy/request_log_stage.hpp"
#include "proxy/rewrite_stage.hpp"
#include "proxy/shared_session_stage.hpp"
#include "proxy/sticky_hash_stage.hpp"
#include "proxy/sticky_insert_stage.hpp"
#include "proxy/sticky_learn_stage.hpp"

namespace corral::proxy {
namespace {

// One request and the connection facts a session gives its context.
struct Request {
  explicit Request(http::verb method = http::verb::get, unsigned version = 11) {
    header.method(method);
    header.target("/items?id=7");
    header.version(version);
    header.set(http::field::host, "example.test");
  }

  RequestContext& context(bool keep = true, bool parser_upgrade = false) {
    forwarded.start(cfg, boost::asio::ip::make_address("10.0.0.7"));
    r.peer_ip = "10.0.0.7";
    r.forwarded = &forwarded;
    r.reset(header, keep, parser_upgrade);
    return r;
  }

  config::Config cfg;
  RequestHeader header;
  ForwardedClient forwarded;
  RequestContext r;
};

TEST(GuardStage, PassesAPlainRequest) {
  Request q;
  GuardStage guard;
  auto& r = q.context();
  EXPECT_EQ(guard.on_request_header(r), StageVerdict::proceed);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.stopped());
}

TEST(GuardStage, RefusesSmugglingFramingAndClosesTheConnection) {
  Request q(http::verb::post);
  q.header.set(http::field::content_length, "4");
  q.header.set(http::field::transfer_encoding, "chunked");
  GuardStage guard;
  auto& r = q.context();
  EXPECT_EQ(guard.on_request_header(r), StageVerdict::answer);
  EXPECT_EQ(r.answer.status, http::status::bad_request);
  EXPECT_TRUE(r.answer.close);
  EXPECT_TRUE(r.stopped());
}

TEST(GuardStage, AnswersContinueItselfAndRefusesOtherExpectations) {
  Request q(http::verb::post);
  q.header.set(http::field::expect, "100-Continue");
  GuardStage guard;
  auto& r = q.context();
  EXPECT_EQ(guard.on_request_header(r), StageVerdict::proceed);
  EXPECT_TRUE(r.expect_continue);
  EXPECT_EQ(q.header.find(http::field::expect), q.header.end()) << "not forwarded";

  Request other(http::verb::post);
  other.header.set(http::field::expect, "something-else");
  auto& o = other.context();
  EXPECT_EQ(guard.on_request_header(o), StageVerdict::answer);
  EXPECT_EQ(o.answer.status, http::status::expectation_failed);
}

TEST(GuardStage, AnH2cUpgradeIsRemovedAndServedAsHttp11) {
  Request q;
  q.header.set(http::field::connection, "Upgrade, HTTP2-Settings");
  q.header.set(http::field::upgrade, "h2c");
  q.header.set("HTTP2-Settings", "AAMAAABkAAQAAP__");
  GuardStage guard;
  auto& r = q.context(true, /*parser_upgrade=*/true);
  EXPECT_EQ(guard.on_request_header(r), StageVerdict::proceed);
  EXPECT_FALSE(r.upgrade);
  EXPECT_EQ(q.header.find(http::field::upgrade), q.header.end());
}

TEST(RewriteStage, MakesOneIdPerRequestAndKeepsTheClients) {
  RewriteStage rewrite(0xabcdef01, 3);
  Request first;
  auto& a = first.context();
  EXPECT_EQ(rewrite.on_request_header(a), StageVerdict::proceed);
  EXPECT_EQ(a.request_id, "abcdef01030000000001");
  EXPECT_EQ(first.header["X-Request-Id"], "abcdef01030000000001");
  Request second;
  auto& b = second.context();
  rewrite.on_request_header(b);
  EXPECT_EQ(b.request_id, "abcdef01030000000002");

  Request own;
  own.header.set("X-Request-Id", "client-7");
  auto& c = own.context();
  rewrite.on_request_header(c);
  EXPECT_EQ(c.request_id, "client-7");
}

TEST(RewriteStage, ForwardsTheClientAndSpeaksHttp11Upstream) {
  RewriteStage rewrite(1, 0);
  Request q(http::verb::get, 10);
  q.header.set(http::field::connection, "keep-alive");
  auto& r = q.context();
  rewrite.on_request_header(r);
  EXPECT_EQ(q.header["X-Forwarded-For"], "10.0.0.7");
  EXPECT_EQ(q.header.find(http::field::connection), q.header.end());
  EXPECT_EQ(q.header.version(), 11u);
  EXPECT_EQ(r.client_version, 10u) << "answered in the client's own version";
}

TEST(RewriteStage, AnHttp10RequestWithoutHostStays10) {
  RewriteStage rewrite(1, 0);
  Request q(http::verb::get, 10);
  q.header.erase(http::field::host);
  rewrite.on_request_header(q.context());
  EXPECT_EQ(q.header.version(), 10u);
}

config::Sticky learn_mode() {
  config::Sticky s;
  s.cookie = "connect.sid";
  s.fallback = config::Balance::round_robin;
  return s;
}

TEST(StickyLearnStage, LearnsFromTheResponseAndReadsThePinOfTheNextRequest) {
  config::Config cfg;
  cfg.balance = config::Balance::sticky;
  cfg.sticky = learn_mode();
  balancer::SlotTable slots({1, 1, 1});
  auto balancer = balancer::make_balancer(cfg, slots);
  session::AffinityTable affinity;
  StickyRouter router(*cfg.sticky, &affinity, nullptr, *balancer);
  StickyLearnStage stage(router);

  Request first;
  auto& a = first.context();
  EXPECT_EQ(stage.on_request_header(a), StageVerdict::proceed);
  EXPECT_FALSE(a.sticky.pin);
  a.slot = 2;
  a.pick_outcome = balancer::PickOutcome::miss;
  ResponseHeader res;
  res.insert(http::field::set_cookie, "connect.sid=s1; Path=/");
  EXPECT_EQ(stage.on_response_header(a, res), StageVerdict::proceed);

  Request second;
  second.header.set(http::field::cookie, "connect.sid=s1");
  auto& b = second.context();
  stage.on_request_header(b);
  ASSERT_TRUE(b.sticky.pin);
  EXPECT_EQ(*b.sticky.pin, 2u);
}

// Without Redis: which requests and responses cost a round trip (the stage suspends) and which
// go on at once. The round trips themselves are the integration tests' (a real redis-server).
TEST(SharedSessionStage, SuspendsOnlyForASessionIdOrTheAppsSessionAnswer) {
  boost::asio::io_context ioc;
  config::Sessions cfg;
  session::SessionStore store(ioc, cfg, "127.0.0.1");
  SharedSessionStage stage(store);

  Request anonymous;
  anonymous.header.set(http::field::cookie, "theme=dark");
  anonymous.header.set(cfg.header, "{\"forged\":true}");
  auto& a = anonymous.context();
  EXPECT_EQ(stage.on_request_header(a), StageVerdict::proceed);
  EXPECT_EQ(anonymous.header.find(cfg.header), anonymous.header.end())
      << "a client's session header never reaches the app";

  Request malformed;
  malformed.header.set(http::field::cookie, cfg.cookie + "=not-an-id");
  EXPECT_EQ(stage.on_request_header(malformed.context()), StageVerdict::proceed);

  Request known;
  known.header.set(http::field::cookie, cfg.cookie + "=AAAAAAAAAAAAAAAAAAAAAA");
  auto& k = known.context();
  EXPECT_EQ(stage.on_request_header(k), StageVerdict::suspend);
  ASSERT_TRUE(k.session.id);

  ResponseHeader plain;
  EXPECT_EQ(stage.on_response_header(k, plain), StageVerdict::proceed);
  ResponseHeader answer;
  answer.set("X-Corral-Session-Set", "{\"user\":\"ann\"}");
  EXPECT_EQ(stage.on_response_header(k, answer), StageVerdict::suspend);
}

TEST(RequestLogStage, CountsTheAnswerOnItsUpstreamsRowAndLogsIt) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ThreadMetrics metrics(2);
  {
    AccessLog log(fds[1]);
    RequestLogStage stage(metrics, log, 2);
    Request q;
    auto& r = q.context();
    r.request_id = "rid-1";
    r.slot = 1;
    r.upstream_name = "app-1";
    r.status = 200;
    r.bytes_sent = 12;
    stage.on_end(r);
    Request none;
    auto& n = none.context();
    n.status = 503;
    stage.on_end(n);
    Request silent;  // its client went away: counted, not logged
    stage.on_end(silent.context());
    log.flush();
  }
  EXPECT_EQ(metrics.upstreams[1].by_class[1].get(), 1u);
  EXPECT_EQ(metrics.upstreams[2].by_class[4].get(), 1u);
  std::string text(4096, '\0');
  auto n = ::read(fds[0], text.data(), text.size());
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_GT(n, 0);
  text.resize(static_cast<std::size_t>(n));
  EXPECT_NE(text.find("rid-1"), std::string::npos) << text;
  EXPECT_NE(text.find("app-1"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
}

TEST(RequestChain, RunsGuardRewriteStickyThenTheLog) {
  config::Config cfg;
  cfg.balance = config::Balance::sticky;
  cfg.sticky = learn_mode();
  balancer::SlotTable slots({1, 1});
  auto balancer = balancer::make_balancer(cfg, slots);
  session::AffinityTable affinity;
  StickyRouter router(*cfg.sticky, &affinity, nullptr, *balancer);
  ThreadMetrics metrics(2);
  AccessLog log(-1);
  RequestChain chain(*balancer, RewriteStage(1, 0), &router, nullptr,
                     RequestLogStage(metrics, log, 2), 16 * 1024);
  auto stages = chain.stages();
  ASSERT_EQ(stages.size(), 4u);
  EXPECT_NE(dynamic_cast<GuardStage*>(stages[0]), nullptr);
  EXPECT_NE(dynamic_cast<RewriteStage*>(stages[1]), nullptr);
  EXPECT_NE(dynamic_cast<StickyLearnStage*>(stages[2]), nullptr);
  EXPECT_NE(dynamic_cast<RequestLogStage*>(stages[3]), nullptr);

  RequestChain plain(*balancer, RewriteStage(1, 0), nullptr, nullptr,
                     RequestLogStage(metrics, log, 2), 16 * 1024);
  EXPECT_EQ(plain.stages().size(), 3u);
}

TEST(RequestChain, MakesTheStickyStageOfTheConfiguredMode) {
  ThreadMetrics metrics(2);
  AccessLog log(-1);
  balancer::SlotTable slots({1, 1});
  auto stage_for = [&](config::Sticky s, auto check) {
    config::Config cfg;
    cfg.balance = config::Balance::sticky;
    cfg.sticky = s;
    auto balancer = balancer::make_balancer(cfg, slots);
    StickyRouter router(*cfg.sticky, nullptr, nullptr, *balancer);
    RequestChain chain(*balancer, RewriteStage(1, 0), &router, nullptr,
                       RequestLogStage(metrics, log, 2), 16 * 1024);
    ASSERT_EQ(chain.stages().size(), 4u);
    check(chain.stages()[2]);
  };
  stage_for(learn_mode(), [](RequestStage* s) {
    EXPECT_NE(dynamic_cast<StickyLearnStage*>(s), nullptr);
  });
  config::Sticky insert;
  insert.mode = config::StickyMode::insert;
  insert.key = "0123456789abcdef0123456789abcdef";
  stage_for(insert, [](RequestStage* s) {
    EXPECT_NE(dynamic_cast<StickyInsertStage*>(s), nullptr);
  });
  config::Sticky hash;
  hash.mode = config::StickyMode::hash;
  hash.cookie = "sid";
  stage_for(hash, [](RequestStage* s) {
    EXPECT_NE(dynamic_cast<StickyHashStage*>(s), nullptr);
  });
}

TEST(RequestChain, TheBalancerChoosesWhenNoStageDoes) {
  config::Config cfg;
  balancer::SlotTable slots({1, 1});
  auto balancer = balancer::make_balancer(cfg, slots);
  ThreadMetrics metrics(2);
  AccessLog log(-1);
  RequestChain chain(*balancer, RewriteStage(1, 0), nullptr, nullptr,
                     RequestLogStage(metrics, log, 2), 16 * 1024);
  Request q;
  auto& r = q.context();
  const std::array<balancer::SlotId, 1> tried{0};
  balancer::RequestView view{"GET", "/", {}, tried, {}};
  balancer::Pick pick;
  RequestStage* chooser = chain.stages()[0];
  EXPECT_EQ(chain.choose_upstream(r, view, pick, chooser), ChoiceVerdict::chosen);
  EXPECT_EQ(chooser, nullptr);
  EXPECT_EQ(pick.slot, 1u) << "slot 0 was tried";
  EXPECT_EQ(pick.outcome, balancer::PickOutcome::miss);
}

TEST(RequestChain, TheStickyStageChoosesBeforeTheBalancer) {
  config::Config cfg;
  cfg.balance = config::Balance::sticky;
  cfg.sticky = learn_mode();
  cfg.sticky->on_unavailable = config::OnUnavailable::hold;
  balancer::SlotTable slots({1, 1});
  auto balancer = balancer::make_balancer(cfg, slots);
  session::AffinityTable affinity;
  affinity.learn("s1", 1, std::chrono::steady_clock::now());
  StickyRouter router(*cfg.sticky, &affinity, nullptr, *balancer);
  ThreadMetrics metrics(2);
  AccessLog log(-1);
  RequestChain chain(*balancer, RewriteStage(1, 0), &router, nullptr,
                     RequestLogStage(metrics, log, 2), 16 * 1024);
  Request q;
  q.header.set(http::field::cookie, "connect.sid=s1");
  auto& r = q.context();
  for (RequestStage* stage : chain.stages()) ASSERT_EQ(stage->on_request_header(r), StageVerdict::proceed);
  balancer::RequestView view{q.header.method_string(), q.header.target(), {}, {}, {}};
  balancer::Pick pick;
  RequestStage* chooser = nullptr;
  EXPECT_EQ(chain.choose_upstream(r, view, pick, chooser), ChoiceVerdict::chosen);
  EXPECT_EQ(chooser, chain.stages()[2]);
  EXPECT_EQ(pick.slot, 1u);
  EXPECT_EQ(pick.outcome, balancer::PickOutcome::hit);
  EXPECT_TRUE(r.wait_for_pin);

  slots.set_usable(1, false);
  EXPECT_EQ(chain.choose_upstream(r, view, pick, chooser), ChoiceVerdict::suspend)
      << "the hold is the stage's to wait for";
  EXPECT_EQ(chooser, chain.stages()[2]);
}

}  // namespace
}  // namespace corral::proxy
