#pragma once
// `corral status` as people read it: the master's status JSON (see docs/cluster.md) rendered as
// a table like `pm2 ls`. Pure formatting.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

namespace corral::master {

// "45s", "2m 3s", "3h 12m", "4d 2h"
std::string format_uptime(std::uint64_t ms);
// "512 B", "41.2 MiB"
std::string format_bytes(std::uint64_t bytes);

// The header lines (master, proxy, any operation running) and one row per slot.
std::string render_status_table(const boost::json::object& status);

}  // namespace corral::master
