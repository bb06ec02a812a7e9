#include "proxy/sticky_router.hpp"

#include <stdexcept>
#include <string>

#include "config/validate.hpp"
#include "session/cookie.hpp"

namespace corral::proxy {

namespace {

using Clock = std::chrono::steady_clock;
using balancer::PickOutcome;
using balancer::Pick;

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The value of cookie `name` in the request's Cookie header(s), or nothing.
std::optional<std::string_view> request_cookie(const RequestHeader& request,
                                               std::string_view name) {
  for (auto [it, end] = request.equal_range(http::field::cookie); it != end; ++it)
    if (auto v = session::find_cookie(it->value(), name)) return v;
  return std::nullopt;
}

// The raw value of query parameter `name` in `target` ("/p?a=1&sid=x"), or empty.
std::string_view query_parameter(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return {};
}

}  // namespace

StickyRouter::StickyRouter(const config::Sticky& config, session::AffinityTable* table,
                           session::AffinityStore* store, balancer::Balancer& balancer,
                           std::size_t max_header_bytes)
    : config_(config),
      table_(table),
      store_(store),
      balancer_(balancer) {
  if (config_.mode == config::StickyMode::insert) {
    auto key = config::insert_key(config_);
    if (!key) throw std::invalid_argument("sticky: insert mode has no key");
    cookie_.emplace(std::string_view(*key));
    strip_buffer_.resize(max_header_bytes);
  }
}

void StickyRouter::begin(StickyRequest& r, RequestHeader& request,
                         std::string_view client_ip) {
  r.key = {};
  r.pin.reset();
  r.cookie_expiry = 0;
  r.now_unix = 0;
  r.store_asked = false;
  switch (config_.mode) {
    case config::StickyMode::learn:
      if (auto v = request_cookie(request, config_.cookie); v && !v->empty()) {
        r.key = *v;
        const auto now = Clock::now();
        if (table_) r.pin = table_->lookup(r.key, now);
        if (store_) {
          r.fingerprint = session::AffinityTable::fingerprint(r.key);
          if (r.pin) store_->renew(r.fingerprint, now);
        }
      }
      break;
    case config::StickyMode::insert:
      if (auto v = request_cookie(request, session::affinity_cookie_name)) {
        r.now_unix = unix_now();
        auto check = cookie_->verify(*v, r.now_unix);
        if (check.status == session::AffinityCookieStatus::valid) {
          r.pin = check.slot;
          r.cookie_expiry = check.expiry_unix;
        } else if (check.status != session::AffinityCookieStatus::expired) {
          counters_.cookies_rejected.add();
        }
        strip_affinity_cookie(request);
      }
      break;
    case config::StickyMode::hash:
      r.key = hash_key(request, client_ip);
      break;
  }
}

std::string_view StickyRouter::hash_key(const RequestHeader& request,
                                        std::string_view client_ip) const {
  switch (config_.key_source) {
    case config::StickyKeySource::cookie:
      return request_cookie(request, config_.cookie).value_or(std::string_view{});
    case config::StickyKeySource::header: {
      auto it = request.find(config_.key_name);
      return it == request.end() ? std::string_view{} : std::string_view(it->value());
    }
    case config::StickyKeySource::query:
      return query_parameter(request.target(), config_.key_name);
    case config::StickyKeySource::client_ip:
      return client_ip;
  }
  return {};
}

void StickyRouter::strip_affinity_cookie(RequestHeader& request) {
  const auto name = session::affinity_cookie_name;
  auto range = request.equal_range(http::field::cookie);
  if (std::next(range.first) == range.second) {
    // One Cookie header, the usual case.
    std::string_view value = range.first->value();
    auto stripped = session::strip_cookie(value, name, strip_buffer_);
    if (!stripped || stripped->empty()) {
      request.erase(http::field::cookie);
    } else if (stripped->size() != value.size()) {
      request.set(http::field::cookie, *stripped);  // copies before the old value goes
    }
    return;
  }
  // Several Cookie headers: rebuild them in order without ours.
  std::vector<std::string> kept;
  for (auto it = range.first; it != range.second; ++it) {
    auto stripped = session::strip_cookie(it->value(), name, strip_buffer_);
    if (stripped && !stripped->empty()) kept.emplace_back(*stripped);
  }
  request.erase(http::field::cookie);
  for (const auto& v : kept) request.insert(http::field::cookie, v);
}

bool StickyRouter::store_lookup_due(const StickyRequest& r,
                                    const balancer::RequestView& view) const {
  return store_ && !r.store_asked && !r.key.empty() &&
         (!r.pin || !balancer_.can_serve(view, *r.pin));
}

awaitable<void> StickyRouter::lookup_store(StickyRequest& r) {
  r.store_asked = true;
  auto found = co_await store_->lookup(r.fingerprint);
  if (found.slot && found.slot != r.pin) {
    // Learned by another instance (or by this one before a restart), or re-homed by one since.
    r.pin = found.slot;
    if (table_) table_->learn(r.key, *r.pin, Clock::now());
  }
}

Pick StickyRouter::pick(const StickyRequest& r, balancer::RequestView& view) {
  view.affinity_key = r.key;
  view.affinity_slot = r.pin;
  const Pick p = balancer_.pick_pinned(view, config_.on_unavailable);
  switch (p.outcome) {
    case PickOutcome::hit:
      counters_.hits.add();
      break;
    case PickOutcome::miss:
      counters_.misses.add();
      break;
    case PickOutcome::rehomed:
      counters_.rehomed.add();
      break;
    case PickOutcome::unavailable:
      if (config_.on_unavailable == config::OnUnavailable::strict)
        counters_.strict_rejections.add();
      break;
  }
  return p;
}

Pick StickyRouter::pick_after_hold(const StickyRequest& r,
                                         balancer::RequestView& view) {
  view.affinity_slot = r.pin;
  const Pick p = balancer_.pick_pinned(view, config::OnUnavailable::failover);
  if (p.outcome == PickOutcome::hit) counters_.hits.add();
  if (p.outcome == PickOutcome::rehomed) counters_.rehomed.add();
  return p;
}

bool StickyRouter::pin_can_serve(const StickyRequest& r, const balancer::RequestView& view) const {
  return r.pin && balancer_.can_serve(view, *r.pin);
}

bool StickyRouter::try_hold() {
  if (held_ >= max_held) return false;
  ++held_;
  counters_.held.add();
  return true;
}

void StickyRouter::end_hold(bool served) {
  --held_;
  if (served) counters_.hold_served.add();
}

void StickyRouter::on_response(StickyRequest& r, ResponseHeader& response,
                               balancer::SlotId slot,
                               PickOutcome outcome, bool secure) {
  switch (config_.mode) {
    case config::StickyMode::learn:
      learn_from(r, response, slot, outcome);
      break;
    case config::StickyMode::insert: {
      if (outcome == PickOutcome::hit) {
        if (r.now_unix == 0) r.now_unix = unix_now();
        if (!session::AffinityCookie::needs_refresh(
                r.cookie_expiry, r.now_unix,
                std::chrono::duration_cast<std::chrono::seconds>(config_.max_age)))
          break;
      } else {
        r.now_unix = unix_now();
      }
      auto text = cookie_->set_cookie(
          slot, r.now_unix, std::chrono::duration_cast<std::chrono::seconds>(config_.max_age),
          secure);
      response.insert(http::field::set_cookie, text.view());
      counters_.cookies_issued.add();
      break;
    }
    case config::StickyMode::hash:
      break;
  }
  r.now_unix = 0;
}

void StickyRouter::learn_from(const StickyRequest& r, const ResponseHeader& response,
                              balancer::SlotId slot,
                              PickOutcome outcome) {
  if (!table_) return;
  bool named = false;
  long long now_unix = 0;
  for (auto [it, end] = response.equal_range(http::field::set_cookie); it != end; ++it) {
    if (now_unix == 0) now_unix = unix_now();
    auto c = session::parse_set_cookie(it->value(), now_unix);
    if (!c || c->name != config_.cookie) continue;
    named = true;
    if (c->deletes) {
      // Logout or expiry: the session the request named is over.
      if (!r.key.empty()) {
        table_->forget(r.key);
        if (store_) store_->erase(r.fingerprint);
      }
    } else if (!c->value.empty()) {
      table_->learn(c->value, slot, Clock::now());
      if (store_) store_->save(session::AffinityTable::fingerprint(c->value), slot);
    }
  }
  // A session placed anew keeps its cookie: pin it where it landed. Only keys that were in the
  // table (or the store) are re-learned, so clients cannot grow it with invented values.
  if (!named && outcome == PickOutcome::rehomed && !r.key.empty()) {
    table_->learn(r.key, slot, Clock::now());
    if (store_) store_->save(r.fingerprint, slot);
  }
}

}  // namespace corral::proxy
