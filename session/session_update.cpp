#include "session/session_update.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace corral::session {

std::optional<std::vector<SessionField>> parse_session_update(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  std::vector<SessionField> fields;
  fields.reserve(v.as_object().size());
  for (const auto& member : v.as_object()) {
    fields.push_back({boost::json::serialize(boost::json::string(member.key())),
                      boost::json::serialize(member.value())});
  }
  return fields;
}

}  // namespace corral::session
