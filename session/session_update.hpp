#pragma once
// The app's X-Corral-Session-Set value: a JSON object whose top-level fields are merged into
// the session. Each field is kept as its JSON text, so the store never re-encodes a value.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::session {

// One top-level field: its name as a JSON string ("\"cart\""), its value as JSON text; a value
// of "null" removes the field.
struct SessionField {
  std::string name;
  std::string value;
};

// Nothing when `json` is not a JSON object (the answer is then ignored and logged).
std::optional<std::vector<SessionField>> parse_session_update(std::string_view json);

}  // namespace corral::session
