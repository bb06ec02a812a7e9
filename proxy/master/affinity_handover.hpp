#pragma once
// The master's part in keeping sticky learn mode's pins across proxy generations: it keeps the
// newest snapshot file a proxy reported, hands it to each new generation before its first
// membership, forwards a draining generation's last snapshot to the one that took over, and
// deletes a file once the generation it was handed to acknowledged restoring it.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace corral::master {

class AffinityHandover {
 public:
  using Remove = std::function<void(const std::string& file)>;
  explicit AffinityHandover(Remove remove);
  ~AffinityHandover();  // removes every file it still knows

  // Proxy generation `from` wrote a snapshot to `file`, having restored `restored` (empty when
  // none) since its previous report; `current` is the generation that accepts connections (0:
  // none). Returns the file to send to the current generation: a snapshot of another one.
  std::optional<std::string> on_snapshot(std::uint64_t from, std::uint64_t current,
                                         const std::string& file, const std::string& restored);
  // The snapshot a new generation should restore before it accepts, if there is one.
  std::optional<std::string> for_new_generation() const;

  const std::string& latest() const { return latest_; }

 private:
  Remove remove_;
  std::string latest_;
  std::set<std::string> files_;  // every file reported and not yet removed
};

}  // namespace corral::master
