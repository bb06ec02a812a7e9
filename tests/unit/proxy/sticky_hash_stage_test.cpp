// StickyHashStage: the request's key handed to the ConsistentHash balancer, without sockets.
#include "proxy/sticky_hash_stage.hpp"

#include <gtest/gtest.h>

#include "tests/unit/proxy/sticky_stage_fixture.hpp"

namespace corral::proxy {
namespace {

using balancer::PickOutcome;
using config::StickyKeySource;
using testing::hash_config;
using testing::StickyFixture;

TEST(StickyHashStage, HandsTheQueryKeyToTheBalancer) {
  StickyFixture f(hash_config(StickyKeySource::query, "sid"), 5);
  auto a = f.request({}, "/p?x=1&sid=abc&y=2");
  EXPECT_EQ(f.verdict, ChoiceVerdict::chosen);
  EXPECT_EQ(f.current->view.affinity_key, "abc");
  EXPECT_EQ(a.outcome, PickOutcome::hit);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.request({}, "/q?sid=abc").slot, a.slot);
  EXPECT_EQ(f.request({}, "/q").outcome, PickOutcome::miss);
  EXPECT_EQ(f.request({}, "/q?sid=abc#sid=other").slot, a.slot) << "the fragment is not the query";
}

TEST(StickyHashStage, KeySources) {
  StickyFixture ip(hash_config(StickyKeySource::client_ip, ""), 5);
  ip.request({});
  EXPECT_EQ(ip.current->view.affinity_key, "10.0.0.7");

  StickyFixture cookie(hash_config(StickyKeySource::cookie, "sid"), 5);
  cookie.request({"a=b; sid=xyz"});
  EXPECT_EQ(cookie.current->view.affinity_key, "xyz");

  StickyFixture header(hash_config(StickyKeySource::header, "X-Tenant"), 5);
  auto& f = header.begin({});
  EXPECT_EQ(f.r.sticky.key, "");
  f.req.set("X-Tenant", "acme");
  header.stage->on_request_header(f.r);
  header.choose(f);
  EXPECT_EQ(f.view.affinity_key, "acme");
}

TEST(StickyHashStage, KeepsNoPinAndChangesNoResponse) {
  StickyFixture f(hash_config(StickyKeySource::cookie, "sid"), 3);
  auto p = f.request({"sid=k"});
  EXPECT_FALSE(f.current->r.sticky.pin);
  f.respond(*p.slot, p.outcome, {"sid=k; Path=/"});
  EXPECT_EQ(f.res.count(http::field::set_cookie), 1u);
  EXPECT_EQ(f.affinity.size(), 0u);
}

}  // namespace
}  // namespace corral::proxy
