// The proxy ↔ master control messages that carry admin HTTP commands, and how a command's
// error maps to an HTTP status.
#include <gtest/gtest.h>

#include "proxy/admin_commands.hpp"
#include "proxy/membership.hpp"

namespace corral::proxy {
namespace {

TEST(ControlMessage, CommandRoundTrips) {
  ControlMessage m;
  m.type = "command";
  m.id = 7;
  m.body = R"({"command":"reload"})";
  std::string line = encode(m);
  ASSERT_EQ(line.back(), '\n');
  auto back = decode(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, "command");
  EXPECT_EQ(back->id, 7u);
  EXPECT_EQ(back->body, m.body);
}

TEST(ControlMessage, ReplyRoundTripsWithItsProgress) {
  ControlMessage m;
  m.type = "reply";
  m.id = 3;
  m.body = R"({"ok":false,"error":"refused: a rolling restart is still running"})";
  m.progress = {"slot 0: starting a replacement", "slot 0: \"quoted\" done"};
  auto back = decode(encode(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, 3u);
  EXPECT_EQ(back->body, m.body);
  EXPECT_EQ(back->progress, m.progress);
}

TEST(ControlMessage, CommandWithoutIdOrBodyIsRejected) {
  EXPECT_FALSE(decode(R"({"type":"command","request":"{}"})"));
  EXPECT_FALSE(decode(R"({"type":"command","id":1})"));
  EXPECT_FALSE(decode(R"({"type":"reply","id":1,"reply":{}})"));
  EXPECT_FALSE(decode(R"({"type":"reply","id":1,"reply":"{}","progress":[1]})"));
}

TEST(ControlMessage, StopMessagesRoundTrip) {
  // unready (SIGTERM with shutdown_delay: /readyz 503, still serving), then drain.
  for (const char* type : {"unready", "drain"}) {
    auto back = decode(encode(ControlMessage{type}));
    ASSERT_TRUE(back) << type;
    EXPECT_EQ(back->type, type);
  }
  EXPECT_FALSE(decode(R"({"type":"unreddy"})"));
}

TEST(AdminCommandError, MapsToAStatus) {
  EXPECT_EQ(status_for_command_error("refused: a rolling restart requested by corral reload is "
                                     "still running; try again when it is done"),
            http::status::conflict);
  EXPECT_EQ(status_for_command_error("refused: corral is stopping"), http::status::conflict);
  EXPECT_EQ(status_for_command_error("this config has no workers to restart"),
            http::status::conflict);
  EXPECT_EQ(status_for_command_error("no slot 7: slots are 0 to 1"), http::status::not_found);
  EXPECT_EQ(status_for_command_error("rolling restart aborted: slot 0: the replacement worker "
                                     "pid 42 was not ready within 10000 ms"),
            http::status::internal_server_error);
}

}  // namespace
}  // namespace corral::proxy
