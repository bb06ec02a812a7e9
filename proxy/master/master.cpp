#include "proxy/master/master.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <filesystem>
#include <thread>

#include "config/load.hpp"
#include "proxy/affinity_keeper.hpp"
#include "proxy/listen_socket.hpp"
#include "proxy/master/insert_key.hpp"
#include "proxy/master/preflight.hpp"

namespace corral::master {

namespace json = boost::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

// How long a new proxy generation may take to start accepting before a reload gives up on it.
constexpr auto proxy_start_timeout = std::chrono::seconds(30);
// A proxy that ran less than this before it died counts as crashing quickly.
constexpr auto proxy_quick_exit = std::chrono::seconds(5);

std::uint64_t ms_since(Clock::time_point t) {
  return static_cast<std::uint64_t>(duration_cast<milliseconds>(Clock::now() - t).count());
}

unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

std::vector<std::uint32_t> all_slots(std::size_t count) {
  std::vector<std::uint32_t> slots(count);
  for (std::size_t i = 0; i < count; ++i) slots[i] = static_cast<std::uint32_t>(i);
  return slots;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

}  // namespace

Master::Master(config::Config config, std::string config_path)
    : config_(std::move(config)),
      config_path_(absolute_path(config_path)),
      affinity_handover_([](const std::string& file) {
        std::error_code ec;
        std::filesystem::remove(file, ec);
      }) {}

Master::~Master() {
  stand_in_.stop();
  ioc_.discard_pending_work();
  close_listeners(listeners_);
}

int Master::run() {
  started_at_ = Clock::now();
  ensure_insert_key(config_);
  std::optional<WorkerSpec> spec;
  if (config_.workers) {
    spec = resolve_workers(*config_.workers, config_path_, cores());
    std::error_code ec;
    if (!std::filesystem::is_directory(spec->cwd, ec)) {
      spdlog::error("{}: workers.cwd: {} is not a directory", config_.source, spec->cwd);
      return 2;
    }
  }
  try {
    control_ = std::make_unique<ControlServer>(
        ioc_, control_socket_path(config_path_),
        [this](ControlRequest request, std::shared_ptr<ControlReplies> replies) {
          return handle_control(std::move(request), std::move(replies));
        });
    listeners_ = bind_listeners(config_, nullptr);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  for (std::size_t i = 0; i < listeners_.listeners.size(); ++i) {
    const bool tls = i < config_.listen.size() && config_.listen[i].tls;
    spdlog::info("listening on {}", proxy::url_of(listeners_.listeners[i].bound.local, tls));
  }
  if (listeners_.admin) spdlog::info("admin on {}", proxy::url_of(listeners_.admin->bound.local));

  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  signals_.add(SIGUSR2);
  signals_.add(SIGCHLD);
  wait_signal();
  control_->start();

  if (spec) {
    supervisor_ =
        std::make_unique<Supervisor>(ioc_, changed_, *spec, [this] { push_membership(); });
  }
  try {
    current_ = launch_proxy(listeners_, worker_slots());
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  if (supervisor_) supervisor_->start();
  spdlog::info("master pid {}: control socket {}{}", ::getpid(), control_->path(),
               supervisor_
                   ? ", " + std::to_string(supervisor_->table().slots().size()) + " worker slot(s)"
                   : std::string());
  sample_usage();
  ioc_.run();
  return exit_code_;
}

// ---------------------------------------------------------------------------------------------
// Signals and children

void Master::wait_signal() {
  signals_.async_wait([this](error_code ec, int signal) {
    if (ec) return;
    on_signal(signal);
    wait_signal();
  });
}

void Master::on_signal(int signal) {
  switch (signal) {
    case SIGCHLD:
      reap_children();
      break;
    case SIGTERM:
      begin_stop("SIGTERM", config_.shutdown_delay);
      break;
    case SIGINT:
      begin_stop("SIGINT");
      break;
    case SIGHUP:
      asio::co_spawn(ioc_, reload_config("SIGHUP", nullptr), asio::detached);
      break;
    case SIGUSR2:
      if (supervisor_) {
        asio::co_spawn(
            ioc_,
            rolling_restart("SIGUSR2", all_slots(supervisor_->table().slots().size()), nullptr),
            asio::detached);
      } else {
        spdlog::warn("SIGUSR2: this config has no workers to restart");
      }
      break;
  }
}

void Master::reap_children() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;
    if (supervisor_ && supervisor_->on_exit(pid, status)) {
      announce_ready_once();
      continue;
    }
    auto it = std::find_if(proxies_.begin(), proxies_.end(),
                           [pid](const auto& p) { return p->pid() == pid; });
    if (it != proxies_.end()) on_proxy_exit(*it, status);  // a copy: *it is erased there
  }
}

// ---------------------------------------------------------------------------------------------
// The proxy

std::uint32_t Master::worker_slots() const {
  return supervisor_ ? static_cast<std::uint32_t>(supervisor_->table().slots().size()) : 0;
}

std::shared_ptr<ProxyProcess> Master::launch_proxy(const ListenerSet& listeners,
                                                   std::uint32_t worker_slots) {
  auto proxy = ProxyProcess::launch(ioc_, binary_, config_path_, listeners, worker_slots,
                                    ++proxy_generation_);
  proxy->start([this](ProxyProcess& p, const proxy::ControlMessage& m) { on_proxy_message(p, m); });
  if (auto snapshot = affinity_handover_.for_new_generation()) {
    // Sticky pins of the previous generation: restored before the first membership, so before
    // the new generation accepts.
    proxy::ControlMessage affinity{"affinity"};
    affinity.file = *snapshot;
    proxy->send(affinity);
  }
  proxy::ControlMessage membership;
  membership.type = "membership";
  if (supervisor_) membership.slots = supervisor_->table().membership();
  proxy->send(membership);
  proxies_.push_back(proxy);
  spdlog::info("proxy generation {} started: pid {}", proxy->generation(), proxy->pid());
  return proxy;
}

void Master::on_proxy_message(ProxyProcess& proxy, const proxy::ControlMessage& message) {
  if (message.type == "command") return on_proxy_command(proxy, message);
  if (message.type == "ready") {
    spdlog::info("proxy generation {} (pid {}) accepts connections", proxy.generation(),
                 proxy.pid());
    proxy_served_ = true;
    if (&proxy == current_.get()) stand_in_.stop();
    announce_ready_once();
  }
  if (message.type == "affinity") on_affinity_snapshot(proxy, message);
  if (message.type != "stats") changed_.notify();
}

void Master::on_proxy_command(ProxyProcess& proxy, const proxy::ControlMessage& message) {
  // The reply goes to the proxy that asked, if it is still there when the command ends.
  struct Collected {
    proxy::ControlMessage reply;
  };
  auto collected = std::make_shared<Collected>();
  collected->reply.type = "reply";
  collected->reply.id = message.id;
  std::weak_ptr<ProxyProcess> asker = proxy.shared_from_this();
  auto replies = std::make_shared<ControlReplies>([collected, asker](std::string line) {
    auto parsed = parse_control_reply(line);
    if (parsed && parsed->kind == ControlReply::Kind::progress) {
      collected->reply.progress.push_back(std::move(parsed->text));
      return;
    }
    if (!line.empty() && line.back() == '\n') line.pop_back();
    collected->reply.body = std::move(line);
    if (auto p = asker.lock(); p && p->state() != ProxyProcess::State::exited) p->send(collected->reply);
  });
  ParsedControlRequest parsed = parse_control_request(message.body);
  if (!parsed.request) {
    replies->error(parsed.error);
    return;
  }
  // Only what the admin listener offers; stopping corral stays with signals and the CLI.
  switch (parsed.request->command) {
    case ControlCommand::status:
    case ControlCommand::reload:
    case ControlCommand::restart:
    case ControlCommand::broadcast:
    case ControlCommand::send:
      break;
    default:
      replies->error("not an admin HTTP command: " + std::string(to_string(parsed.request->command)));
      return;
  }
  const std::string who = "admin HTTP " + std::string(to_string(parsed.request->command));
  if (parsed.request->command != ControlCommand::status) spdlog::info("{}", who);
  asio::co_spawn(ioc_, handle_control(std::move(*parsed.request), replies, who), asio::detached);
}

void Master::on_affinity_snapshot(ProxyProcess& proxy, const proxy::ControlMessage& message) {
  if (!proxy::AffinityKeeper::is_snapshot_file(message.file)) {
    spdlog::warn("proxy pid {}: ignored an affinity snapshot at an unexpected path {}", proxy.pid(),
                 message.file);
    return;
  }
  const std::uint64_t current = current_ ? current_->generation() : 0;
  if (proxy.generation() == current) ++affinity_saves_;
  auto forward =
      affinity_handover_.on_snapshot(proxy.generation(), current, message.file, message.restored);
  if (forward && current_) {
    spdlog::info("proxy generation {} handed {} session pin(s) to generation {}",
                 proxy.generation(), message.entries, current);
    proxy::ControlMessage m{"affinity"};
    m.file = *forward;
    current_->send(m);
  }
}

void Master::on_proxy_exit(std::shared_ptr<ProxyProcess> proxy, int wait_status) {
  proxy->exited(wait_status);
  for (const auto& s : proxy->stats()) retired_requests_[s.slot] += s.requests;
  std::erase(proxies_, proxy);
  changed_.notify();
  const std::string status = describe_wait_status(wait_status);
  if (proxy != current_) {
    spdlog::info("proxy generation {} (pid {}) exited ({})", proxy->generation(), proxy->pid(),
                 status);
    return;
  }
  current_.reset();
  proxy_last_exit_ = proxy->failure().empty() ? status : proxy->failure();
  if (stopping_) {
    spdlog::info("proxy pid {} stopped ({})", proxy->pid(), status);
    return;
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == proxy::startup_failed_exit) {
    const std::string why = proxy->failure().empty() ? "see its error above" : proxy->failure();
    if (!proxy_served_) {
      // `corral run` starting: the proxy could not start, and would not the next time either.
      // Say why and stop.
      spdlog::error("the proxy cannot start: {}; stopping (exit code 2)", why);
      exit_code_ = 2;
      begin_stop("proxy start-up failure");
      return;
    }
    // It served before (something on the machine changed since): the workers stay up, the
    // master answers 503 meanwhile, and the proxy is tried again.
    spdlog::error("the proxy cannot start: {}; trying again", why);
  }
  // The listeners stay open in the master: new connections wait in the backlog meanwhile, for
  // a proxy started at once; while it crashes again and again, the master answers them 503.
  const bool quick = Clock::now() - proxy->started_at() < proxy_quick_exit;
  proxy_quick_exits_ = quick ? proxy_quick_exits_ + 1 : 0;
  auto delay = config::Duration(
      proxy_quick_exits_ <= 1 ? 0 : std::min(1000, 100 << std::min(proxy_quick_exits_ - 2, 4u)));
  if (delay.count() > 0) {
    stand_in_.start(listeners_, "no proxy is running: it exited " +
                                    std::to_string(proxy_quick_exits_) +
                                    " times in a row soon after it started; see corral's log");
  }
  spdlog::warn("proxy pid {} (generation {}) exited unexpectedly ({}); starting a new one{}",
               proxy->pid(), proxy->generation(), status,
               delay.count() ? " in " + std::to_string(delay.count()) + " ms" : std::string());
  asio::co_spawn(ioc_, restart_proxy(delay), asio::detached);
}

awaitable<void> Master::restart_proxy(config::Duration delay) {
  asio::steady_timer timer(ioc_);
  for (;;) {
    if (delay.count() > 0) {
      timer.expires_after(delay);
      co_await timer.async_wait(nothrow);
    }
    if (stopping_ || current_) co_return;
    try {
      current_ = launch_proxy(listeners_, worker_slots());
      co_return;
    } catch (const std::exception& e) {
      spdlog::error("{}; trying again in 1 s", e.what());
      delay = std::chrono::seconds(1);
    }
  }
}

void Master::push_membership() {
  proxy::ControlMessage membership;
  membership.type = "membership";
  if (supervisor_) membership.slots = supervisor_->table().membership();
  for (const auto& p : proxies_) p->send(membership);
  announce_ready_once();
}

awaitable<bool> Master::wait_drained(std::uint32_t slot, std::uint64_t generation,
                                     Clock::time_point deadline) {
  // Each proxy that may route to the slot must report it drained after the push that marked it
  // draining (which happened just before this call, with nothing read since).
  std::vector<std::pair<std::weak_ptr<ProxyProcess>, std::uint64_t>> marks;
  for (const auto& p : proxies_) {
    if (p->state() != ProxyProcess::State::exited) marks.emplace_back(p, p->received());
  }
  co_return co_await changed_.wait_until(
      [&marks, slot, generation] {
        for (const auto& [weak, mark] : marks) {
          auto p = weak.lock();
          if (!p || p->state() == ProxyProcess::State::exited) continue;
          // A proxy that never became ready never took a request; one with fewer slots (a
          // reload lowered workers.count) never routes to this one.
          if (p->state() == ProxyProcess::State::starting || slot >= p->worker_slots()) continue;
          if (!p->has_drained(slot, generation, mark)) return false;
        }
        return true;
      },
      deadline);
}

void Master::announce_ready_once() {
  if (announced_ready_ || stopping_ || !current_ ||
      current_->state() != ProxyProcess::State::ready) {
    return;
  }
  if (supervisor_ && !supervisor_->table().all_settled()) return;
  announced_ready_ = true;
  if (supervisor_) {
    unsigned up = 0, errored = 0;
    for (const auto& s : supervisor_->table().slots()) {
      if (s.state == proxy::SlotState::ready) ++up;
      if (s.state == proxy::SlotState::errored) ++errored;
    }
    spdlog::info("ready: proxy pid {}, {} of {} worker slot(s) up{}", current_->pid(), up,
                 supervisor_->table().slots().size(),
                 errored ? ", " + std::to_string(errored) + " errored" : std::string());
  } else {
    spdlog::info("ready: proxy pid {}, fronting {} upstream(s)", current_->pid(),
                 config_.upstreams.size());
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

std::optional<std::string> Master::busy() const {
  if (rollout_) return rollout_->describe();
  if (!operation_.empty()) {
    return operation_ + " " + std::to_string(ms_since(operation_started_) / 1000) + " s ago";
  }
  return std::nullopt;
}

RolloutHooks Master::rollout_hooks(std::shared_ptr<ControlReplies> replies) {
  RolloutHooks hooks;
  hooks.wait_drained = [this](std::uint32_t slot, std::uint64_t generation,
                              Clock::time_point deadline) {
    return wait_drained(slot, generation, deadline);
  };
  hooks.progress = [replies](const std::string& text) {
    if (replies) replies->progress(text);
  };
  return hooks;
}

awaitable<void> Master::handle_control(ControlRequest request,
                                       std::shared_ptr<ControlReplies> replies,
                                       std::string requested_by) {
  const std::string who = requested_by.empty()
                              ? "corral " + std::string(to_string(request.command))
                              : std::move(requested_by);
  switch (request.command) {
    case ControlCommand::status:
      replies->success("status", json::object{{"status", status()}});
      break;
    case ControlCommand::reload:
      if (!supervisor_) {
        replies->error(
            "this config has no workers to restart; `corral reload --config` reloads the proxy "
            "with the config file");
        break;
      }
      co_await rolling_restart(who, all_slots(supervisor_->table().slots().size()), replies);
      break;
    case ControlCommand::reload_config:
      co_await reload_config(who, replies);
      break;
    case ControlCommand::restart:
      co_await restart_slot(request.slot, replies);
      break;
    case ControlCommand::broadcast: {
      if (!supervisor_) {
        replies->error("this config has no workers to send messages to");
        break;
      }
      Supervisor::Delivery d = supervisor_->broadcast(request.message);
      spdlog::info("broadcast {}: delivered to {} worker(s), {} dropped",
                   json::serialize(request.message), d.delivered, d.dropped);
      replies->success(
          "delivered to " + std::to_string(d.delivered) + " worker(s)" +
              (d.dropped ? ", dropped by " + std::to_string(d.dropped) + " (channel full or closed)"
                         : std::string()),
          json::object{{"delivered", d.delivered}, {"dropped", d.dropped}});
      break;
    }
    case ControlCommand::send: {
      if (!supervisor_) {
        replies->error("this config has no workers to send messages to");
        break;
      }
      std::string error = supervisor_->send(request.slot, request.message);
      if (error.empty()) {
        const WorkerProcess* w = supervisor_->table().routed(request.slot);
        replies->success("delivered to slot " + std::to_string(request.slot) + " (pid " +
                         std::to_string(w ? w->pid : 0) + ")");
      } else {
        replies->error(error);
      }
      break;
    }
    case ControlCommand::stop:
      replies->keep_open();
      replies->success(stopping_ ? "already stopping" : "stopping");
      begin_stop(who);
      break;
  }
}

awaitable<void> Master::rolling_restart(std::string requested_by, std::vector<std::uint32_t> slots,
                                        std::shared_ptr<ControlReplies> replies) {
  auto refuse = [&](const std::string& why) {
    spdlog::warn("{}: {}", requested_by, why);
    if (replies) replies->error(why);
  };
  if (stopping_) co_return refuse("refused: corral is stopping");
  if (auto running = busy()) {
    co_return refuse("refused: a " + *running + " is still running; try again when it is done");
  }
  WorkerSpec spec = supervisor_->spec();
  RollingRestart::Result result =
      co_await run_rollout(spec, spec, requested_by, std::move(slots), replies);
  if (!replies) co_return;
  if (result.ok) {
    replies->success(result.message);
  } else {
    replies->error(result.message);
  }
}

awaitable<RollingRestart::Result> Master::run_rollout(WorkerSpec next, WorkerSpec previous,
                                                      std::string requested_by,
                                                      std::vector<std::uint32_t> slots,
                                                      std::shared_ptr<ControlReplies> replies) {
  spdlog::info("rolling restart requested by {}: {} slot(s)", requested_by, slots.size());
  rollout_ = std::make_unique<RollingRestart>(*supervisor_, std::move(next), std::move(previous),
                                              rollout_hooks(replies), std::move(requested_by));
  RollingRestart::Result result = co_await rollout_->run(std::move(slots));
  rollout_.reset();
  co_return result;
}

awaitable<void> Master::restart_slot(std::uint32_t slot, std::shared_ptr<ControlReplies> replies) {
  if (!supervisor_) {
    replies->error("this config has no workers to restart");
    co_return;
  }
  const std::size_t count = supervisor_->table().slots().size();
  if (slot >= count) {
    replies->error(unknown_slot_message(slot, count));
    co_return;
  }
  if (supervisor_->table().slot(slot).pid != 0) {
    std::vector<std::uint32_t> slots(1, slot);
    co_await rolling_restart("corral restart " + std::to_string(slot), std::move(slots), replies);
    co_return;
  }
  // No worker runs there (crashed and waiting, or errored): start one now.
  if (stopping_) {
    replies->error("refused: corral is stopping");
    co_return;
  }
  supervisor_->restart_now(slot);
  replies->progress("slot " + std::to_string(slot) + " had no running worker: starting one now");
  const auto deadline = Clock::now() + supervisor_->spec().ready.timeout + std::chrono::seconds(1);
  bool up = co_await changed_.wait_until(
      [this, slot] {
        return stopping_ || slot >= supervisor_->table().slots().size() ||
               supervisor_->table().slot(slot).pid != 0;
      },
      deadline);
  if (up && slot < supervisor_->table().slots().size() &&
      supervisor_->table().slot(slot).pid != 0) {
    replies->success("slot " + std::to_string(slot) + ": worker pid " +
                     std::to_string(supervisor_->table().slot(slot).pid) + " is up");
  } else {
    replies->error("slot " + std::to_string(slot) + ": no worker came up (see the master's log)");
  }
}

awaitable<void> Master::reload_config(std::string requested_by,
                                      std::shared_ptr<ControlReplies> replies) {
  auto fail = [&](const std::string& why) {
    spdlog::error("config reload ({}): {}", requested_by, why);
    if (replies) replies->error(why);
  };
  auto progress = [&](const std::string& text) {
    spdlog::info("config reload: {}", text);
    if (replies) replies->progress(text);
  };
  if (stopping_) co_return fail("refused: corral is stopping");
  if (auto running = busy()) {
    co_return fail("refused: a " + *running + " is still running; try again when it is done");
  }
  operation_ = "config reload requested by " + requested_by;
  operation_started_ = Clock::now();
  struct Clear {
    std::string& operation;
    ~Clear() { operation.clear(); }
  } clear{operation_};

  config::KeyPositions positions;
  config::LoadResult loaded = config::load_file(config_path_, positions);
  if (loaded.config) {
    ensure_insert_key(*loaded.config);
    // What the file names on the machine; the listen ports are the master's own already.
    for (auto& p : preflight(*loaded.config, config_path_, false)) {
      config::locate(p, positions);
      loaded.problems.push_back(std::move(p));
    }
    if (!loaded.problems.empty()) loaded.config.reset();
  }
  if (!loaded.config) {
    std::string text =
        std::to_string(loaded.problems.size()) + " problem(s) in the new config; nothing changed:";
    for (const auto& p : loaded.problems) text += "\n" + p.to_string();
    co_return fail(text);
  }
  config::Config next = std::move(*loaded.config);
  if (bool(next.workers) != bool(supervisor_)) {
    co_return fail(std::string("the new config ") +
                   (next.workers ? "adds workers:" : "drops workers:") +
                   "; switching between workers and upstreams needs a restart of corral; nothing "
                   "changed");
  }
  std::optional<WorkerSpec> next_spec;
  if (next.workers) {
    next_spec = resolve_workers(*next.workers, config_path_, cores());
    std::error_code ec;
    if (!std::filesystem::is_directory(next_spec->cwd, ec)) {
      co_return fail("workers.cwd: " + next_spec->cwd + " is not a directory; nothing changed");
    }
  }

  ListenerSet next_listeners;
  try {
    next_listeners = bind_listeners(next, &listeners_);
  } catch (const std::exception& e) {
    co_return fail(std::string(e.what()) + "; nothing changed");
  }
  if (current_ && current_->state() == ProxyProcess::State::ready && config_.sticky &&
      config_.sticky->mode == config::StickyMode::learn) {
    // Sticky pins: the next generation starts from a snapshot taken now. Pins learned after it
    // come with the old generation's last snapshot when it has drained.
    const std::uint64_t saves = affinity_saves_;
    current_->send(proxy::ControlMessage{"save"});
    co_await changed_.wait_until([&] { return stopping_ || affinity_saves_ != saves; },
                                 Clock::now() + std::chrono::seconds(2));
  }
  std::shared_ptr<ProxyProcess> candidate;
  try {
    candidate = launch_proxy(next_listeners, next_spec ? next_spec->count : 0);
  } catch (const std::exception& e) {
    close_listeners(next_listeners, listeners_);
    co_return fail(std::string(e.what()) + "; nothing changed");
  }
  progress("proxy generation " + std::to_string(candidate->generation()) + " started (pid " +
           std::to_string(candidate->pid()) + ")");
  co_await changed_.wait_until(
      [&] { return stopping_ || candidate->state() != ProxyProcess::State::starting; },
      Clock::now() + proxy_start_timeout);
  if (candidate->state() != ProxyProcess::State::ready || stopping_) {
    const bool ended = candidate->state() == ProxyProcess::State::exited;
    if (!ended) ::kill(candidate->pid(), SIGKILL);
    close_listeners(next_listeners, listeners_);
    const std::string why =
        ended ? "exited before it accepted connections" +
                    (candidate->failure().empty() ? std::string(" (see the master's log)")
                                                  : ": " + candidate->failure())
              : "did not accept connections within 30 s (see the master's log)";
    co_return fail("the new proxy generation " + why + "; nothing changed");
  }
  // The switch: the new generation accepts on the same sockets; the old one stops accepting
  // and finishes what it has.
  std::shared_ptr<ProxyProcess> old = current_;
  current_ = candidate;
  stand_in_.stop();  // a reload during a crash loop: this generation serves now
  if (old) old->drain();
  for (std::size_t i = 0; i < next_listeners.listeners.size(); ++i) {
    const auto& l = next_listeners.listeners[i];
    bool kept = false;
    for (const auto& o : listeners_.listeners) kept = kept || o.bound.fds == l.bound.fds;
    const bool tls = i < next.listen.size() && next.listen[i].tls;
    if (!kept) spdlog::info("listening on {}", proxy::url_of(l.bound.local, tls));
  }
  close_listeners(listeners_, next_listeners);
  listeners_ = std::move(next_listeners);
  config_ = std::move(next);
  std::string message =
      "config reloaded: proxy generation " + std::to_string(candidate->generation()) + " (pid " +
      std::to_string(candidate->pid()) + ") took over" +
      (old ? " from generation " + std::to_string(old->generation()) + ", which drains"
           : std::string());
  // A progress line only when worker steps follow: else it is the final answer itself.
  if (supervisor_ && (next_spec->starts_differently(supervisor_->spec()) ||
                      next_spec->count != supervisor_->table().slots().size())) {
    progress(message);
  }

  if (supervisor_) {
    const WorkerSpec previous = supervisor_->spec();
    const std::uint32_t old_count = static_cast<std::uint32_t>(supervisor_->table().slots().size());
    const bool different = next_spec->starts_differently(previous);
    supervisor_->set_spec(*next_spec);
    if (next_spec->count > old_count) {
      progress("workers.count " + std::to_string(old_count) + " -> " +
               std::to_string(next_spec->count) + ": starting the new slots");
      supervisor_->resize(next_spec->count);
    }
    if (different) {
      progress("the worker command, cwd, env or ports changed: rolling restart");
      RollingRestart::Result result = co_await run_rollout(
          *next_spec, previous, requested_by,
          all_slots(std::min<std::uint32_t>(old_count, next_spec->count)), replies);
      if (!result.ok) co_return fail(message + "; but " + result.message);
      message += "; " + result.message;
    }
    if (next_spec->count < old_count) {
      RollingRestart shrink(*supervisor_, *next_spec, *next_spec, rollout_hooks(replies),
                            requested_by);
      co_await shrink.remove_slots(next_spec->count);
      message += "; workers.count is now " + std::to_string(next_spec->count);
    }
  }
  spdlog::info("{}", message);
  if (replies) replies->success(message);
}

void Master::begin_stop(const std::string& requested_by, std::chrono::milliseconds delay) {
  if (stopping_) {
    if (delaying_stop_) {
      spdlog::info("{}: the shutdown delay is cut short", requested_by);
      delaying_stop_ = false;
      changed_.notify();
    }
    return;
  }
  stopping_ = true;
  if (delay.count() > 0) {
    spdlog::info(
        "{}: stopping: not ready; serving for {} ms more, then the proxy drains and the "
        "workers stop",
        requested_by, delay.count());
  } else {
    spdlog::info("{}: stopping: the proxy drains, then the workers stop", requested_by);
  }
  changed_.notify();
  asio::co_spawn(ioc_, shutdown(delay), asio::detached);
}

awaitable<void> Master::shutdown(std::chrono::milliseconds delay) {
  if (delay.count() > 0) {
    // Kubernetes removes a stopping pod from its endpoints while the containers already have
    // SIGTERM: /readyz says so at once, and new connections are still served until the delay
    // ends (it replaces a `sleep` in preStop).
    delaying_stop_ = true;
    for (const auto& p : proxies_) p->send(proxy::ControlMessage{"unready"});
    co_await changed_.wait_until([this] { return !delaying_stop_ || proxies_.empty(); },
                                 Clock::now() + delay);
    delaying_stop_ = false;
    spdlog::info("shutdown delay over: the proxy drains");
  }
  stand_in_.stop();
  // The proxies hold their own copies of the listening sockets: once they close them too, new
  // connections are refused rather than left waiting.
  close_listeners(listeners_);
  for (const auto& p : proxies_) p->drain();
  const auto drain_deadline = Clock::now() + config_.timeouts.drain + std::chrono::seconds(2);
  bool drained = co_await changed_.wait_until([this] { return proxies_.empty(); }, drain_deadline);
  if (!drained) {
    for (const auto& p : proxies_) {
      spdlog::warn("proxy pid {} did not finish draining in time; sending SIGKILL", p->pid());
      ::kill(p->pid(), SIGKILL);
    }
    co_await changed_.wait_until([this] { return proxies_.empty(); },
                                 Clock::now() + std::chrono::seconds(5));
  }
  if (supervisor_) co_await supervisor_->stop_all();
  if (control_) control_->close();
  signals_.cancel();
  sample_timer_.cancel();
  spdlog::info("stopped");
  ioc_.stop();
}

// ---------------------------------------------------------------------------------------------
// Status

void Master::sample_usage() {
  std::vector<pid_t> pids;
  for (const auto& p : proxies_) pids.push_back(p->pid());
  if (supervisor_) {
    for (const auto& w : supervisor_->table().workers()) pids.push_back(w.pid);
  }
  usage_.sample(pids, Clock::now());
  sample_timer_.expires_after(std::chrono::seconds(1));
  sample_timer_.async_wait([this](error_code ec) {
    if (!ec && !stopping_) sample_usage();
  });
}

json::object Master::status() const {
  json::object master{{"pid", ::getpid()},
                      {"config", config_path_},
                      {"control_socket", control_ ? control_->path() : std::string()},
                      {"uptime_ms", ms_since(started_at_)},
                      {"state", stopping_          ? "stopping"
                                : announced_ready_ ? "ready"
                                                   : "starting"},
                      {"operation", busy().value_or("")}};
  json::array listen;
  for (const auto& l : listeners_.listeners)
    listen.push_back(json::string(proxy::url_of(l.bound.local)));
  master["listen"] = std::move(listen);
  if (listeners_.admin) master["admin"] = proxy::url_of(listeners_.admin->bound.local);

  json::object proxy_status;
  if (current_) {
    proxy_status = {
        {"pid", current_->pid()},
        {"generation", current_->generation()},
        {"state", to_string(current_->state())},
        {"uptime_ms", ms_since(current_->started_at())},
        {"cpu_percent", usage_.cpu_percent(current_->pid())},
        {"queued", current_->queued()},
        {"rss_bytes", read_process_usage(current_->pid()).value_or(ProcessUsage{}).rss_bytes}};
  } else {
    proxy_status = {{"pid", 0},
                    {"state", stopping_ ? "stopped" : "restarting"},
                    {"last_exit", proxy_last_exit_}};
  }
  json::array generations;
  for (const auto& p : proxies_) {
    generations.push_back(json::object{
        {"pid", p->pid()}, {"generation", p->generation()}, {"state", to_string(p->state())}});
  }
  proxy_status["processes"] = std::move(generations);

  json::array slots;
  json::array workers;
  if (supervisor_) {
    for (const SlotRecord& s : supervisor_->table().slots()) {
      std::uint64_t in_flight = 0;
      std::uint64_t requests = 0;
      if (auto it = retired_requests_.find(s.slot); it != retired_requests_.end()) {
        requests = it->second;
      }
      for (const auto& p : proxies_) {
        for (const auto& st : p->stats()) {
          if (st.slot != s.slot) continue;
          in_flight += st.in_flight;
          requests += st.requests;
        }
      }
      json::object slot{
          {"slot", s.slot},
          {"pid", s.pid},
          {"state", proxy::to_string(s.state)},
          {"generation", s.generation},
          {"address", loopback_address(s.port)},
          {"uptime_ms", s.pid ? ms_since(s.started_at) : 0},
          {"restarts", s.restarts},
          {"crashes_in_a_row", s.crashes_in_a_row},
          {"last_exit", s.last_exit ? describe_wait_status(*s.last_exit) : ""},
          {"cpu_percent", s.pid ? usage_.cpu_percent(s.pid) : 0.0},
          {"rss_bytes", s.pid ? read_process_usage(s.pid).value_or(ProcessUsage{}).rss_bytes : 0},
          {"in_flight", in_flight},
          {"requests", requests},
          {"dropped_messages", s.pid ? supervisor_->dropped_messages(s.pid) : 0}};
      // Sticky learn mode: the sessions the accepting generation has pinned to the slot.
      if (current_) {
        for (const auto& st : current_->stats())
          if (st.slot == s.slot && st.sessions) slot["sessions"] = *st.sessions;
        for (const auto& st : current_->stats())
          if (st.slot == s.slot && st.limit) slot["limit"] = *st.limit;
      }
      slots.push_back(std::move(slot));
    }
    for (const WorkerProcess& w : supervisor_->table().workers()) {
      workers.push_back(json::object{{"pid", w.pid},
                                     {"slot", w.slot},
                                     {"generation", w.generation},
                                     {"state", to_string(w.state)},
                                     {"address", loopback_address(w.port)},
                                     {"uptime_ms", ms_since(w.started_at)}});
    }
  }
  return json::object{{"master", std::move(master)},
                      {"proxy", std::move(proxy_status)},
                      {"slots", std::move(slots)},
                      {"workers", std::move(workers)}};
}

}  // namespace corral::master
