#pragma once
// What `corral compare` runs: the app, the simulated users, the fault schedule and the modes.
// Plain data with the defaults of the built-in scenario (the demo app); compare.yaml and the
// command line's flags fill it (scenario_file, compare_command).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::compare {

using Millis = std::chrono::milliseconds;

// The ways of keeping users' sessions working that are compared.
enum class Mode { sticky_learn, sticky_insert, shared, round_robin };

std::string_view to_string(Mode m);
std::optional<Mode> parse_mode(std::string_view text);
// "sticky-learn,shared": the modes, or why not (an unknown name).
struct ParsedModes {
  std::vector<Mode> modes;
  std::string error;
};
ParsedModes parse_modes(std::string_view text);
std::vector<Mode> all_modes();

// The app under test: started by corral as its workers, the same in every mode.
struct AppSpec {
  std::vector<std::string> command;  // empty: the demo app (node deploy/demo/server.js)
  std::string cwd;                   // empty: the command's own directory for the demo
  std::map<std::string, std::string> env;
  std::uint32_t workers = 4;
  std::string cookie = "demo_sid";  // the app's session cookie (sticky-learn pins on it)
  // A response header naming the worker that answered (the demo's X-Worker: its slot); empty:
  // the app names none, and moves between workers are not counted.
  std::string worker_header = "X-Worker";
  Millis ready_timeout{20000};
};

// The requests a simulated user makes; {user} and {item} are replaced. Each is "METHOD target".
// The checks: an answer to `me` and `cart` is 200 and names the user ("user" quoted, as JSON
// writes it), `cart` and `cart_add` name every item the user added; 401 or a missing name means
// the server no longer knows the user: a lost session.
struct UserRequests {
  std::string login = "POST /login?user={user}";
  std::string me = "GET /me";
  std::string cart_add = "POST /cart/add?item={item}";
  std::string cart = "GET /cart";
  std::string logout = "POST /logout";
};

// When faults happen, counted from the start of each mode's load.
struct FaultPlan {
  Millis kill_every{0};                      // 0: no worker is killed
  std::optional<Millis> rolling_restart_at;  // `corral reload`
  std::optional<Millis> redis_restart_at;    // shared mode only
};

// The whole comparison.
struct Scenario {
  AppSpec app;
  UserRequests requests;
  std::uint32_t users = 200;
  Millis duration{15000};               // load per mode
  Millis think{100};                    // mean pause between a user's requests (uniform 0..2x)
  std::uint32_t session_requests = 30;  // requests before a user logs out and in again
  // Not empty: no sessions, each user repeats "GET plain_target" (the article's `ab` load);
  // anything but 200 fails.
  std::string plain_target;
  FaultPlan faults{Millis{6000}, Millis{9000}, std::nullopt};
  std::vector<Mode> modes = all_modes();
  std::uint32_t proxy_threads = 1;
  std::uint64_t seed = 0;  // 0: from the clock
  std::string out = "corral-compare";
};

// "POST /login?user={user}" split, with the placeholders replaced.
struct RequestLine {
  std::string method;
  std::string target;
};
std::optional<RequestLine> parse_request_line(std::string_view text);
std::string substitute(std::string_view text, std::string_view user, std::string_view item);

// "1m30s", "250ms", "off"/"0" (nothing) as a duration for flags and compare.yaml.
std::optional<Millis> parse_flag_duration(std::string_view text);

}  // namespace corral::compare
