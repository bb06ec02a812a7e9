#include "proxy/master/control_protocol.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace corral::master {
namespace {

namespace json = boost::json;

ControlRequest round_trip(const ControlRequest& request) {
  std::string line = encode(request);
  EXPECT_EQ(line.back(), '\n');
  line.pop_back();
  ParsedControlRequest parsed = parse_control_request(line);
  EXPECT_TRUE(parsed.request) << parsed.error;
  return parsed.request.value_or(ControlRequest{});
}

TEST(ControlProtocol, EveryCommandRoundTrips) {
  ControlRequest r;
  r.command = ControlCommand::status;
  EXPECT_EQ(encode(r), "{\"command\":\"status\"}\n");
  EXPECT_EQ(round_trip(r).command, ControlCommand::status);

  r.command = ControlCommand::reload;
  EXPECT_EQ(round_trip(r).command, ControlCommand::reload);
  r.command = ControlCommand::reload_config;
  EXPECT_EQ(encode(r), "{\"command\":\"reload\",\"config\":true}\n");
  EXPECT_EQ(round_trip(r).command, ControlCommand::reload_config);
  r.command = ControlCommand::stop;
  EXPECT_EQ(round_trip(r).command, ControlCommand::stop);

  r.command = ControlCommand::restart;
  r.slot = 3;
  EXPECT_EQ(encode(r), "{\"command\":\"restart\",\"slot\":3}\n");
  EXPECT_EQ(round_trip(r).slot, 3u);

  r.command = ControlCommand::send;
  r.slot = 1;
  r.message = json::parse(R"({"usersCount":25})");
  ControlRequest back = round_trip(r);
  EXPECT_EQ(back.command, ControlCommand::send);
  EXPECT_EQ(back.slot, 1u);
  EXPECT_EQ(back.message, r.message);

  r.command = ControlCommand::broadcast;
  r.message = "hello";
  back = round_trip(r);
  EXPECT_EQ(back.command, ControlCommand::broadcast);
  EXPECT_EQ(back.message, json::value("hello"));
}

TEST(ControlProtocol, BadRequests) {
  EXPECT_EQ(parse_control_request("status").error, "not a JSON object");
  EXPECT_EQ(parse_control_request("[1]").error, "not a JSON object");
  EXPECT_EQ(parse_control_request("{}").error, "no \"command\"");
  EXPECT_EQ(parse_control_request(R"({"command":"explode"})").error,
            "unknown command 'explode' (known: status, reload, restart, broadcast, send, stop)");
  EXPECT_EQ(parse_control_request(R"({"command":"restart"})").error,
            "restart: \"slot\" must be a slot number");
  EXPECT_EQ(parse_control_request(R"({"command":"restart","slot":-1})").error,
            "restart: \"slot\" must be a slot number");
  EXPECT_EQ(parse_control_request(R"({"command":"send","slot":0})").error,
            "send: \"message\" is missing");
  EXPECT_EQ(parse_control_request(R"({"command":"broadcast"})").error,
            "broadcast: \"message\" is missing");
}

TEST(ControlProtocol, NullIsAMessageToo) {
  auto parsed = parse_control_request(R"({"command":"broadcast","message":null})");
  ASSERT_TRUE(parsed.request);
  EXPECT_TRUE(parsed.request->message.is_null());
}

TEST(ControlProtocol, SlotArguments) {
  EXPECT_EQ(parse_slot("0"), 0u);
  EXPECT_EQ(parse_slot("17"), 17u);
  EXPECT_FALSE(parse_slot(""));
  EXPECT_FALSE(parse_slot("-1"));
  EXPECT_FALSE(parse_slot("1x"));
  EXPECT_FALSE(parse_slot("99999999999"));
}

TEST(ControlProtocol, JsonArguments) {
  EXPECT_EQ(parse_json_argument(R"({"usersCount":25})").value, json::parse(R"({"usersCount":25})"));
  EXPECT_EQ(parse_json_argument("\"ready\"").value, json::value("ready"));
  EXPECT_EQ(parse_json_argument("42").value, json::value(42));
  ParsedJson bad = parse_json_argument("{usersCount:25}");
  EXPECT_TRUE(bad.value.is_null());
  EXPECT_TRUE(bad.error.starts_with("not JSON: {usersCount:25} (")) << bad.error;
}

TEST(ControlProtocol, Replies) {
  EXPECT_EQ(progress_line("slot 0: up"), "{\"progress\":\"slot 0: up\"}\n");
  EXPECT_EQ(error_line("refused"), "{\"ok\":false,\"error\":\"refused\"}\n");

  auto progress = parse_control_reply(R"({"progress":"slot 0: up"})");
  ASSERT_TRUE(progress);
  EXPECT_EQ(progress->kind, ControlReply::Kind::progress);
  EXPECT_EQ(progress->text, "slot 0: up");

  std::string ok = success_line("done", json::object{{"delivered", 2}});
  auto success = parse_control_reply(std::string_view(ok).substr(0, ok.size() - 1));
  ASSERT_TRUE(success);
  EXPECT_EQ(success->kind, ControlReply::Kind::success);
  EXPECT_EQ(success->text, "done");
  EXPECT_EQ(success->fields.at("delivered"), json::value(2));

  auto error = parse_control_reply(R"({"ok":false,"error":"refused"})");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, ControlReply::Kind::error);
  EXPECT_EQ(error->text, "refused");

  EXPECT_FALSE(parse_control_reply("garbage"));
  EXPECT_FALSE(parse_control_reply(R"({"something":"else"})"));
}

TEST(ControlProtocol, SlotWordsAreTheSameEverywhere) {
  EXPECT_EQ(not_a_slot_message("x"), "not a slot number: 'x'");
  EXPECT_EQ(unknown_slot_message(7, 2), "no slot 7: slots are 0 to 1");
  EXPECT_EQ(unknown_slot_message(0, 0), "no slot 0: this config has no worker slots");
}

}  // namespace
}  // namespace corral::master
