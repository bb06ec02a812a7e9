#pragma once
// Why a Redis command got no usable answer.
#include <boost/system/error_code.hpp>
#include <type_traits>

namespace corral::session {

enum class RedisErrc {
  not_connected = 1,  // no connection ready: reconnecting, or never reached
  timed_out,          // no answer within the command timeout
  disconnected,       // the connection went away before the answer came
  server_error,       // Redis answered with an error reply
  bad_reply,          // an answer of a type the caller did not expect
};

const boost::system::error_category& redis_category();

inline boost::system::error_code make_error_code(RedisErrc e) {
  return {static_cast<int>(e), redis_category()};
}

}  // namespace corral::session

template <>
struct boost::system::is_error_code_enum<corral::session::RedisErrc> : std::true_type {};
