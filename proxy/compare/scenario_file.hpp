#pragma once
// compare.yaml: the user's own app and workload for `corral compare -c compare.yaml`, read on
// top of the built-in scenario's defaults. Every problem is reported, as "FILE:LINE:COL: key:
// message", like corral's own config.
//
//   app:
//     command: ["node", "server.js"]    # run by corral as the workers, in each mode
//     cwd: ./app                        # relative to this file; default: this file's directory
//     env: { NODE_ENV: production }
//     workers: 4
//     cookie: connect.sid               # the app's session cookie (sticky-learn pins on it)
//     worker_header: X-Worker           # a response header naming the worker ("": none)
//     ready_timeout: 20s
//   requests:                           # "METHOD target"; {user} and {item} are replaced
//     login: POST /login?user={user}
//     me: GET /me
//     cart_add: POST /cart/add?item={item}
//     cart: GET /cart
//     logout: POST /logout
//   users: 200
//   duration: 15s                       # load per mode
//   think: 100ms
//   session_requests: 30
//   faults: { kill_every: 6s, rolling_restart_at: 9s, redis_restart_at: off }
//   modes: [sticky-learn, sticky-insert, shared, round-robin]
//   proxy_threads: 1
#include <string>
#include <vector>

#include "proxy/compare/scenario.hpp"

namespace corral::compare {

// Reads `path` into `scenario` (keys absent from the file keep their value); the problems, one
// line each, empty when the file was fine.
std::vector<std::string> read_scenario_file(const std::string& path, Scenario& scenario);

}  // namespace corral::compare
