#pragma once
// The CLI's end of the control socket: sends one request to the master of a config file and
// hands each reply line to the caller. Plain blocking I/O: the CLI does nothing else meanwhile.
#include <functional>
#include <string>

#include "proxy/master/control_protocol.hpp"

namespace corral::master {

// How a request went.
struct ControlCall {
  bool reached = false;  // a master answered
  bool ok = false;       // its final line said ok
  std::string error;     // when not reached: why ("no corral master runs for ...")
};

// Sends `request` to the master whose control socket belongs to `config_path`; `on_reply` gets
// every reply line as it arrives. With `wait_for_close` (stop), returns only once the master
// closed the connection, that is, when it has exited.
ControlCall call_master(const std::string& config_path, const ControlRequest& request,
                        const std::function<void(const ControlReply&)>& on_reply,
                        bool wait_for_close = false);

}  // namespace corral::master
