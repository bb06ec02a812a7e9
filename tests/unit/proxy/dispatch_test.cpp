#include "proxy/dispatch.hpp"

#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace corral::proxy {
namespace {

using balancer::Pick;
using balancer::PickOutcome;
using balancer::SlotId;
using boost::beast::http::status;
using clock = Dispatch::clock;

const clock::time_point t0{};
const clock::time_point deadline = t0 + std::chrono::seconds(30);

// The slots' counts of worker losses, as SlotTable::downs reports them.
struct Downs {
  std::map<SlotId, std::uint64_t> downs;
  std::uint64_t operator()(SlotId s) const {
    auto it = downs.find(s);
    return it == downs.end() ? 0 : it->second;
  }
};

std::vector<SlotId> excluded(Dispatch& d, const Downs& downs) {
  auto span = d.exclusions(downs);
  return {span.begin(), span.end()};
}

TEST(Dispatch, StaticUpstreamStartsAtOnceAndRelaysItsResponse) {
  Dispatch d;
  d.begin(/*queue=*/false, deadline, 2);
  EXPECT_TRUE(excluded(d, {}).empty());
  EXPECT_EQ(d.on_pick({SlotId{1}, PickOutcome::miss}, true), DispatchStep::start);
  EXPECT_EQ(d.slot(), SlotId{1});
  EXPECT_EQ(d.attempt(), 0u);
  EXPECT_EQ(d.on_try(ExchangeOutcome::ok), DispatchStep::relay);
}

TEST(Dispatch, NoStaticUpstreamIs503FirstAnd502AfterFailedTries) {
  Dispatch d;
  d.begin(false, deadline, 2);
  EXPECT_EQ(d.on_pick({std::nullopt, PickOutcome::miss}, true), DispatchStep::answer);
  EXPECT_EQ(d.answer().status, status::service_unavailable);
  EXPECT_TRUE(d.answer().keep_alive);
  EXPECT_FALSE(d.answer().close);

  d.begin(false, deadline, 2);
  ASSERT_EQ(d.on_pick({SlotId{0}, PickOutcome::miss}, true), DispatchStep::start);
  ASSERT_EQ(d.on_try(ExchangeOutcome::retry), DispatchStep::hold);
  ASSERT_EQ(d.on_failure(t0, 0, true), DispatchStep::again);
  EXPECT_EQ(excluded(d, {}), std::vector<SlotId>{0});
  EXPECT_EQ(d.on_pick({std::nullopt, PickOutcome::miss}, true), DispatchStep::answer);
  EXPECT_EQ(d.answer().status, status::bad_gateway);
}

TEST(Dispatch, StaticUpstreamsAreRetriedOnOthersUpToRetries) {
  Dispatch d;
  d.begin(false, deadline, 2);
  for (SlotId s = 0; s < 2; ++s) {
    ASSERT_EQ(d.on_pick({s, PickOutcome::miss}, true), DispatchStep::start);
    ASSERT_EQ(d.on_try(ExchangeOutcome::retry), DispatchStep::hold);
    ASSERT_EQ(d.on_failure(t0, 0, true), DispatchStep::again);
  }
  EXPECT_EQ(excluded(d, {}), (std::vector<SlotId>{0, 1}));
  ASSERT_EQ(d.on_pick({SlotId{2}, PickOutcome::miss}, true), DispatchStep::start);
  EXPECT_EQ(d.attempt(), 2u);
  ASSERT_EQ(d.on_try(ExchangeOutcome::retry), DispatchStep::hold);
  EXPECT_EQ(d.on_failure(t0, 0, true), DispatchStep::answer) << "retries: 2 is three tries";
  EXPECT_EQ(d.answer().status, status::bad_gateway);
}

TEST(Dispatch, AFailureAfterTheRequestMayHaveHadAnEffectIsNotRetried) {
  Dispatch d;
  d.begin(false, deadline, 5);
  d.on_pick({SlotId{0}, PickOutcome::miss}, true);
  EXPECT_EQ(d.on_try(ExchangeOutcome::bad_gateway), DispatchStep::failed);
  EXPECT_EQ(d.on_failure(t0, 0, true), DispatchStep::answer);
  EXPECT_EQ(d.answer().status, status::bad_gateway);

  d.begin(false, deadline, 5);
  d.on_pick({SlotId{0}, PickOutcome::miss}, true);
  EXPECT_EQ(d.on_try(ExchangeOutcome::gateway_timeout), DispatchStep::failed);
  EXPECT_EQ(d.on_failure(t0, 0, true), DispatchStep::answer);
  EXPECT_EQ(d.answer().status, status::gateway_timeout);
  EXPECT_TRUE(d.answer().close);
}

TEST(Dispatch, ARequestWhoseBodyStartedIsNeitherHeldNorRetried) {
  Dispatch d;
  d.begin(true, deadline, 0);
  ASSERT_EQ(d.on_pick({SlotId{0}, PickOutcome::miss}, false), DispatchStep::queue);
  d.body_started() = true;
  EXPECT_EQ(d.on_try(ExchangeOutcome::retry), DispatchStep::failed);
  EXPECT_EQ(d.on_failure(t0, 0, false), DispatchStep::answer);
  EXPECT_EQ(d.answer().status, status::bad_gateway);
  EXPECT_TRUE(d.answer().close) << "the rest of the body is unread";
  EXPECT_FALSE(d.answer().keep_alive);
}

TEST(Dispatch, BeginForgetsThePreviousRequest) {
  Dispatch d;
  d.begin(false, deadline, 3);
  d.on_pick({SlotId{0}, PickOutcome::miss}, true);
  d.body_started() = true;
  d.on_try(ExchangeOutcome::retry);
  d.on_failure(t0, 0, true);
  d.begin(false, deadline, 3);
  EXPECT_TRUE(excluded(d, {}).empty());
  EXPECT_FALSE(d.body_started());
  d.on_pick({SlotId{1}, PickOutcome::miss}, true);
  EXPECT_EQ(d.attempt(), 0u);
  EXPECT_EQ(d.on_try(ExchangeOutcome::retry), DispatchStep::hold);
}

TEST(Dispatch, WorkerSlotsWaitInTheQueueAndStartOnTheGrantedSlot) {
  Dispatch d;
  d.begin(true, deadline, 0);
  ASSERT_EQ(d.on_pick({SlotId{0}, PickOutcome::miss}, true), DispatchStep::queue);
  EXPECT_FALSE(d.pinned());
  EXPECT_TRUE(d.failed().empty());
  EXPECT_EQ(d.on_wait(QueueWait::granted, SlotId{3}, true), DispatchStep::start);
  EXPECT_EQ(d.slot(), SlotId{3});
  EXPECT_EQ(d.tried().slot, SlotId{3});
  EXPECT_EQ(d.tried().outcome, PickOutcome::miss);
}

TEST(Dispatch, AWaitThatEndsWithoutASlotIsAnswered503WithRetryAfter) {
  Dispatch d;
  for (auto w : {QueueWait::full, QueueWait::timeout}) {
    d.begin(true, deadline, 0);
    d.on_pick({std::nullopt, PickOutcome::miss}, true);
    ASSERT_EQ(d.on_wait(w, std::nullopt, true), DispatchStep::answer);
    EXPECT_TRUE(d.answer().send);
    EXPECT_EQ(d.answer().status, status::service_unavailable);
    EXPECT_EQ(d.answer().extra_headers, "Retry-After: 1\r\n");
    EXPECT_TRUE(d.answer().keep_alive);
    // A body not read yet would be taken for the next request.
    d.begin(true, deadline, 0);
    d.on_pick({std::nullopt, PickOutcome::miss}, false);
    ASSERT_EQ(d.on_wait(w, std::nullopt, false), DispatchStep::answer);
    EXPECT_TRUE(d.answer().close);
    EXPECT_FALSE(d.answer().keep_alive);
  }
  d.begin(true, deadline, 0);
  d.on_pick({std::nullopt, PickOutcome::miss}, true);
  ASSERT_EQ(d.on_wait(QueueWait::client_gone, std::nullopt, true), DispatchStep::answer);
  EXPECT_FALSE(d.answer().send) << "nobody to answer";
  EXPECT_FALSE(d.answer().keep_alive);
}

TEST(Dispatch, APinnedPickWaitsForItsSlotAndAnUnavailablePinIsAnswered503) {
  Dispatch d;
  d.begin(true, deadline, 0);
  ASSERT_EQ(d.on_pick({SlotId{2}, PickOutcome::hit}, true), DispatchStep::queue);
  EXPECT_TRUE(d.pinned());
  d.begin(true, deadline, 0);
  ASSERT_EQ(d.on_pick({SlotId{2}, PickOutcome::rehomed}, true), DispatchStep::queue);
  EXPECT_FALSE(d.pinned());
  d.begin(true, deadline, 0);
  ASSERT_EQ(d.on_pick({std::nullopt, PickOutcome::unavailable}, true), DispatchStep::answer);
  EXPECT_EQ(d.answer().status, status::service_unavailable);
  EXPECT_TRUE(d.answer().keep_alive);
}

TEST(Dispatch, AFailedWorkerSlotIsLeftOutOnlyWhileItsWorkerIsTheOneThere) {
  Dispatch d;
  d.begin(true, deadline, 0);
  ASSERT_EQ(d.on_pick({SlotId{1}, PickOutcome::miss}, true), DispatchStep::queue);
  ASSERT_EQ(d.on_wait(QueueWait::granted, SlotId{1}, true), DispatchStep::start);
  ASSERT_EQ(d.on_try(ExchangeOutcome::retry), DispatchStep::hold);
  // Slot 1 had lost 4 workers when this one failed the request.
  ASSERT_EQ(d.on_failure(t0, 4, true), DispatchStep::again);
  ASSERT_EQ(d.failed().size(), 1u);
  EXPECT_EQ(d.failed()[0], (Dispatch::FailedSlot{1, 4}));
  EXPECT_EQ(excluded(d, {{{1, 4}}}), std::vector<SlotId>{1});
  // Its worker replaced: the slot can serve the request again.
  EXPECT_TRUE(excluded(d, {{{1, 5}}}).empty());
}

TEST(Dispatch, WorkerSlotsRequeueUntilTheQueueDeadline) {
  Dispatch d;
  d.begin(true, deadline, 0);
  d.on_pick({SlotId{0}, PickOutcome::miss}, true);
  d.on_wait(QueueWait::granted, SlotId{0}, true);
  d.on_try(ExchangeOutcome::retry);
  EXPECT_EQ(d.on_failure(deadline, 0, true), DispatchStep::answer);
  EXPECT_EQ(d.answer().status, status::bad_gateway);
}

TEST(Dispatch, WorkerSlotsStopRequeueingWhenTheFailedListIsFull) {
  Dispatch d;
  d.begin(true, deadline, 0);
  for (SlotId s = 0; s < Dispatch::capacity; ++s) {
    d.on_pick({s, PickOutcome::miss}, true);
    d.on_wait(QueueWait::granted, s, true);
    d.on_try(ExchangeOutcome::retry);
    ASSERT_EQ(d.on_failure(t0, 0, true), DispatchStep::again) << s;
  }
  d.on_pick({SlotId{9}, PickOutcome::miss}, true);
  d.on_wait(QueueWait::granted, SlotId{9}, true);
  d.on_try(ExchangeOutcome::retry);
  EXPECT_EQ(d.on_failure(t0, 0, true), DispatchStep::answer);
}

TEST(Dispatch, AStageHoldsAFailedTryOnce) {
  Dispatch d;
  d.begin(true, deadline, 0);
  d.on_pick({SlotId{0}, PickOutcome::hit}, true);
  d.on_wait(QueueWait::granted, SlotId{0}, true);
  ASSERT_EQ(d.on_try(ExchangeOutcome::retry), DispatchStep::hold);
  d.held();
  // The stage waited, and the same slot is tried again: a second failure is not held.
  ASSERT_EQ(d.on_pick({SlotId{0}, PickOutcome::hit}, true), DispatchStep::queue);
  EXPECT_EQ(d.attempt(), 1u);
  d.on_wait(QueueWait::granted, SlotId{0}, true);
  EXPECT_EQ(d.on_try(ExchangeOutcome::retry), DispatchStep::failed);
  EXPECT_EQ(d.on_failure(t0, 0, true), DispatchStep::again);
}

}  // namespace
}  // namespace corral::proxy
