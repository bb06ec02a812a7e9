#include "proxy/master/process_table.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

namespace corral::master {
namespace {

using proxy::SlotState;
using namespace std::chrono_literals;

const Clock::time_point t0{};

int exited_with(int code) { return code << 8; }  // as waitpid reports exit(code)
int killed_by(int signal) { return signal; }

TEST(ProcessTable, NewSlotsAreStartingWithNoAddress) {
  ProcessTable table(2);
  ASSERT_EQ(table.slots().size(), 2u);
  auto m = table.membership();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].slot, 1u);
  EXPECT_EQ(m[1].state, SlotState::starting);
  EXPECT_EQ(m[1].address, "");
  EXPECT_EQ(m[1].generation, 0u);
  EXPECT_FALSE(table.all_settled());
}

TEST(ProcessTable, StartedWorkerIsRoutedOnlyWhenAsked) {
  ProcessTable table(1);
  EXPECT_EQ(table.next_generation(0), 1u);
  const WorkerProcess& w = table.add(0, 100, 4000, t0);
  EXPECT_EQ(w.generation, 1u);
  EXPECT_EQ(w.state, WorkerState::starting);
  table.mark_ready(100);
  EXPECT_EQ(table.find(100)->state, WorkerState::ready);
  EXPECT_EQ(table.slot(0).state, SlotState::starting);  // ready, but not routed yet
  EXPECT_EQ(table.routed(0), nullptr);

  table.route_to(100);
  EXPECT_EQ(table.routed(0)->pid, 100);
  auto m = table.membership();
  EXPECT_EQ(m[0].state, SlotState::ready);
  EXPECT_EQ(m[0].address, "127.0.0.1:4000");
  EXPECT_EQ(m[0].generation, 1u);
  EXPECT_TRUE(table.all_settled());
  EXPECT_EQ(table.slot(0).restarts, 0u);
}

TEST(ProcessTable, CrashOfTheRoutedWorkerStopsTheSlot) {
  ProcessTable table(1);
  table.add(0, 100, 4000, t0);
  table.mark_ready(100);
  table.route_to(100);
  auto exit = table.remove(100, killed_by(SIGKILL), t0 + 7s);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->routed);
  EXPECT_FALSE(exit->planned);
  EXPECT_EQ(exit->uptime, 7s);
  EXPECT_EQ(exit->worker.pid, 100);
  EXPECT_EQ(table.slot(0).state, SlotState::stopped);
  EXPECT_EQ(table.slot(0).pid, 0);
  EXPECT_EQ(table.slot(0).last_exit, killed_by(SIGKILL));
  // The proxy keeps the last address and generation, marked stopped.
  auto m = table.membership();
  EXPECT_EQ(m[0].state, SlotState::stopped);
  EXPECT_EQ(m[0].generation, 1u);
  EXPECT_TRUE(table.workers().empty());
  EXPECT_FALSE(table.remove(100, 0, t0));  // reaped once
}

TEST(ProcessTable, ReplacementTakesTheSlotWithTheNextGeneration) {
  ProcessTable table(1);
  table.add(0, 100, 4000, t0);
  table.mark_ready(100);
  table.route_to(100);

  const WorkerProcess& next = table.add(0, 200, 4001, t0 + 1s);
  EXPECT_EQ(next.generation, 2u);
  EXPECT_EQ(table.slot(0).restarts, 1u);
  table.mark_ready(200);
  table.set_draining(0);
  EXPECT_EQ(table.membership()[0].state, SlotState::draining);
  EXPECT_EQ(table.membership()[0].address, "127.0.0.1:4000");  // still the old one, draining

  table.route_to(200);
  EXPECT_EQ(table.membership()[0].state, SlotState::ready);
  EXPECT_EQ(table.membership()[0].address, "127.0.0.1:4001");
  EXPECT_EQ(table.membership()[0].generation, 2u);

  table.mark_stopping(100);
  auto exit = table.remove(100, exited_with(0), t0 + 2s);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->planned);
  EXPECT_FALSE(exit->routed);  // the slot had moved on
  EXPECT_EQ(table.slot(0).state, SlotState::ready);
  EXPECT_EQ(table.routed(0)->pid, 200);
}

TEST(ProcessTable, WorkerThatDiesStartingLeavesTheSlotAsItWas) {
  ProcessTable table(1);
  table.add(0, 100, 4000, t0);
  auto exit = table.remove(100, exited_with(1), t0 + 10ms);
  ASSERT_TRUE(exit);
  EXPECT_FALSE(exit->routed);
  EXPECT_EQ(table.slot(0).state, SlotState::starting);
  EXPECT_EQ(table.slot(0).last_exit, exited_with(1));
  EXPECT_EQ(table.next_generation(0), 2u);  // generations are never reused
}

TEST(ProcessTable, ErroredSlotStaysErroredUntilAWorkerIsRouted) {
  ProcessTable table(1);
  table.set_crashes_in_a_row(0, 5);
  table.set_errored(0);
  EXPECT_EQ(table.slot(0).state, SlotState::errored);
  EXPECT_TRUE(table.all_settled());  // errored counts as settled for the master's "ready"
  table.add(0, 300, 4002, t0);
  ASSERT_TRUE(table.remove(300, exited_with(1), t0));
  EXPECT_EQ(table.slot(0).state, SlotState::errored);
  table.add(0, 301, 4003, t0);
  table.mark_ready(301);
  table.route_to(301);
  EXPECT_EQ(table.slot(0).state, SlotState::ready);
  EXPECT_EQ(table.slot(0).crashes_in_a_row, 5u);  // the restart policy resets it, not the table
}

TEST(ProcessTable, RouteToAnUnknownWorkerThrows) {
  ProcessTable table(1);
  EXPECT_THROW(table.route_to(42), std::logic_error);
}

TEST(ProcessTable, ResizeAddsAndDropsSlots) {
  ProcessTable table(1);
  table.resize(3);
  EXPECT_EQ(table.slots().size(), 3u);
  EXPECT_EQ(table.slots()[2].slot, 2u);
  table.add(2, 100, 4000, t0);
  EXPECT_THROW(table.resize(2), std::logic_error);  // slot 2 still has a worker
  table.remove(100, 0, t0);
  table.resize(2);
  EXPECT_EQ(table.slots().size(), 2u);
}

TEST(ProcessTable, DescribeWaitStatus) {
  EXPECT_EQ(describe_wait_status(exited_with(0)), "exit code 0");
  EXPECT_EQ(describe_wait_status(exited_with(3)), "exit code 3");
  EXPECT_EQ(describe_wait_status(killed_by(SIGKILL)), "killed by SIGKILL");
  EXPECT_EQ(describe_wait_status(killed_by(SIGSEGV)), "killed by SIGSEGV");
}

TEST(ProcessTable, LoopbackAddress) {
  EXPECT_EQ(loopback_address(4000), "127.0.0.1:4000");
  EXPECT_EQ(loopback_address(0), "");
}

}  // namespace
}  // namespace corral::master
