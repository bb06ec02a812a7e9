#include "config/config.hpp"

namespace corral::config {

std::string Problem::to_string() const {
  std::string where = file;
  if (line > 0) {
    where += ':' + std::to_string(line);
    if (column > 0) where += ':' + std::to_string(column);
  }
  std::string out;
  if (!where.empty()) out += where + ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

}  // namespace corral::config
