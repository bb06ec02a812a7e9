#pragma once
// The messages between the master and the proxy process, one JSON object per line over the
// control socketpair (fd in CORRAL_CONTROL_FD of the proxy):
//   master → proxy  {"type":"membership","slots":[{"slot":0,"address":"127.0.0.1:40001",
//                    "state":"ready","generation":3}, ...]}   (always the whole table)
//   master → proxy  {"type":"drain"}                          (stop accepting, finish, exit 0)
//   master → proxy  {"type":"unready"}   (SIGTERM with shutdown_delay: /readyz answers 503, the
//                    proxy still serves; the drain follows when the delay is over)
//   proxy → master  {"type":"ready"}                          (listening, membership applied)
//   proxy → master  {"type":"drained","slot":0,"generation":3}  (no request in flight on it)
//   proxy → master  {"type":"stats","slots":[{"slot":0,"in_flight":1,"requests":42,
//                    "sessions":7}, ...]}                  (sessions: sticky learn mode only)
//   proxy → master  {"type":"command","id":7,"request":"{\"command\":\"reload\"}"}
//                    (an admin HTTP command: a control-socket request line,
//                    proxy/master/control_protocol.hpp)
//   master → proxy  {"type":"reply","id":7,"reply":"{\"ok\":true,...}","progress":["...", ...]}
//                    (its final reply line and the progress lines before it)
//   proxy → master  {"type":"affinity","file":"/tmp/corral-affinity-….snap","entries":12,
//                    "restored":"…"}  (learn mode: a snapshot of the affinity table was written
//                    there; "restored": the snapshot it restored since its last report, which
//                    acknowledges the hand-over: the master may delete that file)
//   master → proxy  {"type":"save"}   (learn mode: write a snapshot now and report it; before a
//                    reload starts the next generation, so that it starts with fresh pins)
//   master → proxy  {"type":"affinity","file":"…"}         (restore that snapshot: sent to a new
//                    generation before its first membership, so it restores before it accepts;
//                    and a draining generation's last snapshot to the one that took over)
//   proxy → master  {"type":"failed","reason":"cannot open access log '…': …"}  (it cannot
//                    start, for a reason that will not change by itself; it then exits with
//                    startup_failed_exit)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::proxy {

enum class SlotState { starting, ready, draining, stopped, errored };

std::string_view to_string(SlotState s);
std::optional<SlotState> slot_state_from(std::string_view s);

// One worker slot as the proxy must know it.
struct SlotMembership {
  std::uint32_t slot = 0;
  std::string address;  // "127.0.0.1:40001"; empty while no worker was ever ready
  SlotState state = SlotState::starting;
  std::uint64_t generation = 0;
};

// Per-slot figures the proxy reports.
struct SlotStats {
  std::uint32_t slot = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t requests = 0;
  std::optional<std::uint64_t> sessions;  // pinned sessions (sticky learn mode)
  std::optional<std::uint64_t> limit;     // in-flight limit (worker slots)
};

// A decoded control message; `type` tells which fields are set.
struct ControlMessage {
  ControlMessage() = default;
  explicit ControlMessage(std::string t) : type(std::move(t)) {}

  std::string type;  // membership | drain | unready | ready | drained | stats | command | reply |
                     // affinity | save | failed
  std::vector<SlotMembership> slots;
  std::vector<SlotStats> stats;
  std::uint32_t slot = 0;
  std::uint64_t generation = 0;
  std::uint64_t id = 0;               // command, reply: pairs a reply with its command
  std::string body;  // command: the request line; reply: the final reply line; failed: the reason
  std::vector<std::string> progress;  // reply: the progress texts, in order
  std::string file;           // affinity: the snapshot file
  std::uint64_t entries = 0;  // affinity: how many pins it holds
  std::string restored;       // affinity (proxy → master): the snapshot file it restored
  std::uint64_t queued = 0;   // stats: requests waiting in the proxy's queue
};

// The proxy's exit code when it cannot start (after a `failed` message): the master does not
// start it again (EX_CONFIG of sysexits.h).
constexpr int startup_failed_exit = 78;

// One line of JSON, with the trailing '\n'.
std::string encode(const ControlMessage& m);
// Nothing when the line is not a valid control message.
std::optional<ControlMessage> decode(std::string_view line);

}  // namespace corral::proxy
