#pragma once
// Helpers for the cluster-mode tests: a `corral run` whose config has a workers: section
// (data/worker.js in each slot), the `corral` commands that talk to its master, and the
// master's status as JSON. Built on harness.hpp; every wait is bounded.
#include <sys/types.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/harness.hpp"

namespace corral::test {

// The parts of a cluster config a test varies.
struct ClusterConfig {
  unsigned count = 2;
  std::string threads = "1";
  std::map<std::string, std::string> env;  // workers.env
  std::string ready_when = "port";
  std::string ready_timeout = "10s";
  std::string stop_timeout = "3s";
  std::string backoff = "50ms";
  std::string max_backoff = "1s";
  std::string reset_after = "5s";
  unsigned crash_loop = 5;
  std::string drain = "5s";
  std::string queue_timeout;  // timeouts.queue when set
  std::string retries = "2";
  std::string extra_workers;  // more lines inside workers: (indented two spaces)
  std::string script = "worker.js";  // the app in tests/integration/data each slot runs
  std::string extra;                 // top-level lines (e.g. balance: and sticky:)
  // Only listen, admin, access_log: off, `extra` and the workers' command, count, env and
  // `extra_workers`: everything else at corral's defaults.
  bool defaults = false;

  std::string render() const;
};

// Which worker answered a request: worker.js's JSON body.
struct WorkerIdentity {
  int slot = -1;
  pid_t pid = 0;
  int generation = 0;
};

// A running cluster: master, proxy and workers, ready when constructed (the master's "ready"
// line: the proxy accepts and every slot's first worker is up or errored).
class Cluster {
 public:
  explicit Cluster(const ClusterConfig& config = {}, Millis ready_timeout = 30s);
  ~Cluster();  // on a failed test, prints the tail of corral's output

  std::uint16_t port() const { return port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  Process& master() { return *master_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::filesystem::path& config_path() const { return config_path_; }
  // Rewrites the config file (for reload --config).
  void rewrite_config(const std::string& yaml);

  // `corral ARGS... -c CONFIG` run to completion.
  RunResult cli(std::vector<std::string> args, Millis timeout = 60s);
  // `corral status --json`, parsed; throws HarnessError when it fails.
  boost::json::object status();
  // The slots array of status(), by slot.
  std::vector<boost::json::object> slots();
  // Polls status() until `pred(slots())` holds; returns whether it did within `timeout`.
  bool wait_slots(const std::function<bool(const std::vector<boost::json::object>&)>& pred,
                  Millis timeout = 10s);
  // The routed worker pid of every slot (0 for none).
  std::vector<pid_t> worker_pids();
  pid_t proxy_pid();

 private:
  TempDir dir_;
  std::filesystem::path config_path_;
  std::unique_ptr<Process> master_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
};

// The identity in a worker.js answer (throws HarnessError on anything else).
WorkerIdentity identity_of(const http::response<http::string_body>& response);

// Counts of a load run.
struct LoadResult {
  long ok = 0;
  long failed = 0;
  std::vector<std::string> failures;  // the first few, for messages
  std::map<int, long> by_slot;
};

// Sends GET / through the proxy from `clients` threads until stop() (each thread alternates
// keep-alive requests and fresh connections), counting answers that are not 200 from a worker.
class Load {
 public:
  Load(std::uint16_t port, unsigned clients = 4);
  ~Load();
  LoadResult stop();

 private:
  void run(unsigned index);

  std::uint16_t port_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  LoadResult result_;
};

// Whether `pid` is gone (no such process, or a zombie nobody reaped yet).
bool process_gone(pid_t pid);

// Polls `pred` every 20 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, Millis timeout);

}  // namespace corral::test
