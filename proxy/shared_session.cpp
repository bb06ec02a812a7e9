#include "proxy/shared_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>

#include "session/cookie.hpp"
#include "session/session_store.hpp"

namespace corral::proxy {

namespace {

constexpr std::string_view set_header = "X-Corral-Session-Set";
constexpr std::string_view clear_header = "X-Corral-Session-Clear";

void add_cookie(Fields& res, const config::Sessions& cfg, const session::SessionId* id,
                bool tls) {
  std::array<char, 256> buf;
  auto r = id ? fmt::format_to_n(buf.data(), buf.size(), "{}={}; Path=/; HttpOnly; SameSite=Lax{}",
                                 cfg.cookie, id->view(), tls ? "; Secure" : "")
              : fmt::format_to_n(buf.data(), buf.size(),
                                 "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}", cfg.cookie,
                                 tls ? "; Secure" : "");
  res.insert(http::field::set_cookie, std::string_view(buf.data(), std::min(r.size, buf.size())));
}

bool is_true(std::string_view v) { return v == "1" || v == "true"; }

}  // namespace

void prepare_session(const config::Sessions& cfg, Fields& req, RequestSession& s) {
  // X-Corral-* is already gone (rewrite_request); a header name of the app's own choosing is not.
  req.erase(cfg.header);
  for (const auto& f : req) {
    if (f.name() != http::field::cookie) continue;
    if (auto value = session::find_cookie(f.value(), cfg.cookie)) {
      s.id = session::parse_session_id(*value);
      if (s.id) break;
    }
  }
}

bool has_session_answer(const Fields& res) {
  return res.find(set_header) != res.end() || res.find(clear_header) != res.end();
}

bool load_cached_session(session::SessionStore& store, Fields& req, RequestSession& s) {
  if (!s.id) return false;
  const std::string* json = store.cached(*s.id);
  if (!json) return false;
  session::SessionCounters::add(store.counters().loaded);
  s.loaded = true;
  req.set(store.config().header, *json);
  return true;
}

awaitable<SessionStep> load_session(session::SessionStore& store, Fields& req,
                                    RequestSession& s) {
  const auto& cfg = store.config();
  if (!s.id) co_return SessionStep::ok;
  auto loaded = co_await store.load(*s.id);
  auto& counters = store.counters();
  if (loaded.ec) {
    session::SessionCounters::add(counters.store_failures);
    s.load_failed = true;
    co_return SessionStep::store_down;
  }
  if (loaded.found && !session::header_safe(loaded.json)) {
    spdlog::warn("session: a stored session holds control characters; ignored");
    loaded.found = false;
  }
  if (!loaded.found) {
    session::SessionCounters::add(counters.unknown);
    co_return SessionStep::ok;
  }
  session::SessionCounters::add(counters.loaded);
  s.loaded = true;
  req.set(cfg.header, loaded.json);
  co_return SessionStep::ok;
}

awaitable<SessionStep> apply_session_answer(session::SessionStore& store, Fields& res,
                                            RequestSession& s, bool tls) {
  auto set_it = res.find(set_header);
  auto clear_it = res.find(clear_header);
  if (set_it == res.end() && clear_it == res.end()) co_return SessionStep::ok;
  const auto& cfg = store.config();
  auto& counters = store.counters();
  bool clear = clear_it != res.end() && is_true(clear_it->value());
  std::optional<std::vector<session::SessionField>> fields;
  if (set_it != res.end()) {
    fields = session::parse_session_update(set_it->value());
    if (!fields) spdlog::warn("session: {} ignored: not a JSON object", set_header);
  }
  res.erase(set_header);
  res.erase(clear_header);

  // After a failed load (fail_open) the session may exist: change it in place rather than
  // start a new one over it.
  bool maybe_live = s.loaded || s.load_failed;
  if (clear && s.id) {
    if (maybe_live) {
      if (auto ec = co_await store.clear(*s.id)) {
        session::SessionCounters::add(counters.store_failures);
        // fail_open forwards the logout: the browser forgets the session even so (it lives on
        // in Redis until its TTL, under an id nobody sends any more).
        add_cookie(res, cfg, nullptr, tls);
        co_return SessionStep::store_down;
      }
      session::SessionCounters::add(counters.cleared);
      s.loaded = false;
      maybe_live = false;
    }
    if (!fields) add_cookie(res, cfg, nullptr, tls);
  }
  if (!fields) co_return SessionStep::ok;

  if (maybe_live) {
    auto [ec, updated] = co_await store.update(*s.id, false, *fields);
    if (ec) {
      session::SessionCounters::add(counters.store_failures);
      co_return SessionStep::store_down;
    }
    session::SessionCounters::add(
        updated == session::SessionStore::Updated::applied ? counters.updated : counters.gone);
    co_return SessionStep::ok;
  }
  // A new session (also after a clear in the same answer: the id changes on login).
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto id = session::generate_session_id();
    if (!id) break;
    auto [ec, updated] = co_await store.update(*id, true, *fields);
    if (ec) {
      session::SessionCounters::add(counters.store_failures);
      co_return SessionStep::store_down;
    }
    if (updated == session::SessionStore::Updated::taken) continue;
    session::SessionCounters::add(counters.created);
    s.id = id;
    s.loaded = true;
    add_cookie(res, cfg, &*id, tls);
    co_return SessionStep::ok;
  }
  spdlog::error("session: could not create a session id");
  co_return SessionStep::ok;
}

std::string redis_connect_host(const config::RedisTarget& target) {
  error_code ec;
  auto address = asio::ip::make_address(target.host, ec);
  if (!ec) return target.host;
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(target.host, std::to_string(target.port), ec);
  if (ec || results.empty()) {
    spdlog::warn("session store: cannot resolve '{}' ({}); will try again at each connect",
                 target.host, ec ? ec.message() : "no address");
    return target.host;
  }
  return results.begin()->endpoint().address().to_string();
}

}  // namespace corral::proxy
