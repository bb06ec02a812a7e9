#pragma once
// Short names for the Asio and Beast namespaces used throughout proxy/, and the completion
// token of the data path: coroutines that return error codes instead of throwing.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace corral::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

template <typename T = void>
using awaitable = asio::awaitable<T>;

// `co_await op(..., nothrow)` yields a tuple (error_code, results...) and never throws.
inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace corral::proxy
