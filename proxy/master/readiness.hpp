#pragma once
// How the master learns that a started worker accepts requests: its port accepts a TCP
// connection, or it says so on its IPC channel ({"ready":true} or "ready", PM2's convention).
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>

#include "proxy/master/asio.hpp"
#include "proxy/master/process_table.hpp"

namespace corral::master {

// {"ready":true} or the string "ready".
bool is_ready_message(const boost::json::value& message);

// Tries to connect to 127.0.0.1:`port` every 25 ms until a connect succeeds (true), `give_up()`
// holds, or `deadline` passes (false).
awaitable<bool> wait_port_open(asio::io_context& ioc, std::uint16_t port,
                               Clock::time_point deadline, std::function<bool()> give_up);

}  // namespace corral::master
