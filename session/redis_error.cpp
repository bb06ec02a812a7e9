#include "session/redis_error.hpp"

#include <string>

namespace corral::session {

namespace {

class Category : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int e) const override {
    switch (static_cast<RedisErrc>(e)) {
      case RedisErrc::not_connected:
        return "not connected to Redis";
      case RedisErrc::timed_out:
        return "Redis did not answer in time";
      case RedisErrc::disconnected:
        return "the Redis connection was lost";
      case RedisErrc::server_error:
        return "Redis answered with an error";
      case RedisErrc::bad_reply:
        return "unexpected Redis reply";
    }
    return "Redis error";
  }
};

}  // namespace

const boost::system::error_category& redis_category() {
  static const Category category;
  return category;
}

}  // namespace corral::session
