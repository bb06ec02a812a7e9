#include "tests/integration/cluster_harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

namespace corral::test {

namespace json = boost::json;

std::string ClusterConfig::render() const {
  std::ostringstream y;
  if (defaults) {
    y << "listen: \"127.0.0.1:0\"\n"
      << "admin: \"127.0.0.1:0\"\n"
      << "access_log: off\n"
      << extra << "workers:\n"
      << "  command: [node, \"" << CORRAL_TEST_DATA << "/" << script << "\"]\n"
      << "  count: " << count << "\n";
    if (!env.empty()) {
      y << "  env:\n";
      for (const auto& [k, v] : env) y << "    " << k << ": \"" << v << "\"\n";
    }
    y << extra_workers;
    return y.str();
  }
  y << "listen: \"127.0.0.1:0\"\n"
    << "threads: " << threads << "\n"
    << "admin: \"127.0.0.1:0\"\n"
    << "timeouts: { connect: 1s, drain: " << drain
    << (queue_timeout.empty() ? "" : ", queue: " + queue_timeout) << " }\n"
    << "retries: " << retries << "\n"
    << "access_log: off\n"
    << extra << "workers:\n"
    << "  command: [node, \"" << CORRAL_TEST_DATA << "/" << script << "\"]\n"
    << "  count: " << count << "\n";
  if (!env.empty()) {
    y << "  env:\n";
    for (const auto& [k, v] : env) y << "    " << k << ": \"" << v << "\"\n";
  }
  y << "  ready: { when: " << ready_when << ", timeout: " << ready_timeout << " }\n"
    << "  stop: { signal: SIGTERM, timeout: " << stop_timeout << " }\n"
    << "  restart: { backoff: " << backoff << ", max_backoff: " << max_backoff
    << ", reset_after: " << reset_after << ", crash_loop: " << crash_loop << " }\n"
    << extra_workers;
  return y.str();
}

Cluster::Cluster(const ClusterConfig& config, Millis ready_timeout) {
  const std::string yaml = config.render();
  config_path_ = dir_.write("corral.yaml", yaml);
  master_ = std::make_unique<Process>(
      std::vector<std::string>{CORRAL_BINARY, "run", "-c", config_path_.string()});
  const std::regex listening(R"(corral\[\d+\]: listening on http://127\.0\.0\.1:(\d+))");
  const std::regex admin(R"(corral\[\d+\]: admin on http://127\.0\.0\.1:(\d+))");
  // "ready: proxy pid 123, 2 of 3 worker slot(s) up"
  const std::regex ready("corral\\[" + std::to_string(master_->pid()) +
                         R"(\]: ready: .*, (\d+) of \d+ worker slot)");
  const std::regex any_line(".*");
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  unsigned up = 0;
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    auto line = master_->try_wait_for_line(any_line, std::max(left, Millis(0)), Stream::err);
    if (!line) {
      auto code = master_->wait_exit(500ms);
      throw HarnessError(std::string("the cluster did not get ready") +
                         (code ? " (corral exited with " + std::to_string(*code) + ")" : "") +
                         "; config:\n" + yaml + "output:\n" + master_->tail(60));
    }
    std::smatch m;
    const std::string& text = line->at(0);
    if (port_ == 0 && std::regex_search(text, m, listening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    } else if (admin_port_ == 0 && std::regex_search(text, m, admin)) {
      admin_port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    } else if (std::regex_search(text, m, ready)) {
      if (port_ == 0 || admin_port_ == 0) {
        throw HarnessError("ready before the listening lines:\n" + master_->tail());
      }
      up = static_cast<unsigned>(std::stoul(m[1].str()));
      break;
    }
  }
  // The master says ready once it has sent the proxy the slots' addresses; the proxy applies
  // them a moment later. Tests start from a proxy that routes to every slot that is up.
  const bool applied = eventually(
      [&] {
        beast::error_code ec;
        HttpClient client(admin_port_, 2s);
        http::request<http::string_body> req{http::verb::get, "/metrics", 11};
        auto res = client.request(std::move(req), ec);
        if (ec || res.result_int() != 200) return false;
        unsigned usable = 0;
        for (unsigned slot = 0; slot < config.count; ++slot) {
          auto v = prometheus_value(res.body(), "corral_upstream_up",
                                    {{"upstream", "slot" + std::to_string(slot)}});
          if (v && *v == 1) ++usable;
        }
        return usable >= up;
      },
      std::max(Millis(0),
               std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now())));
  if (!applied) {
    throw HarnessError("the proxy does not route to the " + std::to_string(up) +
                       " slot(s) the master reported up:\n" + master_->tail(60));
  }
}

Cluster::~Cluster() {
  if (::testing::Test::HasFailure() && master_) {
    std::cerr << "---- corral output (last lines) ----\n" << master_->tail(80);
  }
  // A graceful stop first, so the workers (in their own process groups) go with the master.
  if (master_ && master_->running()) {
    master_->terminate();
    if (!master_->wait_exit(15s)) master_->kill();
  }
}

void Cluster::rewrite_config(const std::string& yaml) {
  std::ofstream f(config_path_, std::ios::binary | std::ios::trunc);
  f << yaml;
  if (!f) throw HarnessError("cannot rewrite " + config_path_.string());
}

RunResult Cluster::cli(std::vector<std::string> args, Millis timeout) {
  std::vector<std::string> argv{CORRAL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-c");
  argv.push_back(config_path_.string());
  return run_command(std::move(argv), timeout);
}

json::object Cluster::status() {
  RunResult r = cli({"status", "--json"}, 10s);
  if (r.exit_code != 0) {
    throw HarnessError("corral status failed (" + std::to_string(r.exit_code) + "): " + r.err);
  }
  return parse_json_object(r.out);
}

std::vector<json::object> Cluster::slots() {
  std::vector<json::object> out;
  const json::object all = status();
  for (const auto& s : all.at("slots").as_array()) out.push_back(s.as_object());
  return out;
}

bool Cluster::wait_slots(const std::function<bool(const std::vector<json::object>&)>& pred,
                         Millis timeout) {
  return eventually([&] { return pred(slots()); }, timeout);
}

std::vector<pid_t> Cluster::worker_pids() {
  std::vector<pid_t> pids;
  for (const auto& s : slots()) pids.push_back(static_cast<pid_t>(s.at("pid").to_number<long>()));
  return pids;
}

pid_t Cluster::proxy_pid() {
  return static_cast<pid_t>(status().at("proxy").as_object().at("pid").to_number<long>());
}

WorkerIdentity identity_of(const http::response<http::string_body>& response) {
  if (response.result_int() != 200) {
    throw HarnessError("expected 200 from a worker, got " + std::to_string(response.result_int()) +
                       ": " + response.body());
  }
  auto o = parse_json_object(response.body());
  WorkerIdentity id;
  id.slot = o.at("slot").to_number<int>();
  id.pid = static_cast<pid_t>(o.at("pid").to_number<long>());
  id.generation = o.at("generation").to_number<int>();
  return id;
}

Load::Load(std::uint16_t port, unsigned clients) : port_(port) {
  for (unsigned i = 0; i < clients; ++i) threads_.emplace_back([this, i] { run(i); });
}

Load::~Load() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

LoadResult Load::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard lock(mu_);
  return result_;
}

void Load::run(unsigned index) {
  std::unique_ptr<HttpClient> client;
  unsigned n = 0;
  while (!stop_) {
    // Odd clients reuse their connection (keep-alive); even ones open one per request.
    const bool reused = client && index % 2 == 1;
    if (!reused) client = std::make_unique<HttpClient>(port_, 10s);
    beast::error_code ec;
    http::request<http::string_body> req{http::verb::get, "/?n=" + std::to_string(n++), 11};
    auto res = client->request(std::move(req), ec);
    std::lock_guard lock(mu_);
    if (ec || res.result_int() != 200) {
      ++result_.failed;
      if (result_.failures.size() < 5) {
        result_.failures.push_back(
            (ec ? "error: " + ec.message() : std::to_string(res.result_int()) + " " + res.body()) +
            (reused ? " (kept-alive connection)" : " (new connection)"));
      }
      client.reset();
      continue;
    }
    ++result_.ok;
    try {
      ++result_.by_slot[identity_of(res).slot];
    } catch (const HarnessError&) {
      ++result_.failed;
    }
  }
}

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  const std::string text = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return true;
  return text.size() > close_paren + 2 && text[close_paren + 2] == 'Z';
}

bool eventually(const std::function<bool()>& pred, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace corral::test
