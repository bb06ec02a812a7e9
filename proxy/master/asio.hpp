#pragma once
// The Asio names of proxy/asio.hpp, for the master's code.
#include "proxy/asio.hpp"

namespace corral::master {

namespace asio = boost::asio;
using proxy::awaitable;
using proxy::error_code;
using proxy::nothrow;
using proxy::tcp;

}  // namespace corral::master
