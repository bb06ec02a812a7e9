#include "proxy/membership.hpp"

#include <boost/json.hpp>

namespace corral::proxy {

namespace json = boost::json;

std::string_view to_string(SlotState s) {
  switch (s) {
    case SlotState::starting: return "starting";
    case SlotState::ready: return "ready";
    case SlotState::draining: return "draining";
    case SlotState::stopped: return "stopped";
    case SlotState::errored: return "errored";
  }
  return "stopped";
}

std::optional<SlotState> slot_state_from(std::string_view s) {
  for (auto st : {SlotState::starting, SlotState::ready, SlotState::draining, SlotState::stopped,
                  SlotState::errored})
    if (to_string(st) == s) return st;
  return std::nullopt;
}

std::string encode(const ControlMessage& m) {
  json::object o;
  o["type"] = m.type;
  if (m.type == "membership") {
    json::array a;
    for (const auto& s : m.slots)
      a.push_back(json::object{{"slot", s.slot}, {"address", s.address},
                               {"state", to_string(s.state)}, {"generation", s.generation}});
    o["slots"] = std::move(a);
  } else if (m.type == "stats") {
    json::array a;
    for (const auto& s : m.stats) {
      json::object so{{"slot", s.slot}, {"in_flight", s.in_flight}, {"requests", s.requests}};
      if (s.sessions) so["sessions"] = *s.sessions;
      if (s.limit) so["limit"] = *s.limit;
      a.push_back(std::move(so));
    }
    o["slots"] = std::move(a);
    o["queued"] = m.queued;
  } else if (m.type == "drained") {
    o["slot"] = m.slot;
    o["generation"] = m.generation;
  } else if (m.type == "command") {
    o["id"] = m.id;
    o["request"] = m.body;
  } else if (m.type == "reply") {
    o["id"] = m.id;
    o["reply"] = m.body;
    json::array a;
    for (const auto& p : m.progress) a.emplace_back(p);
    o["progress"] = std::move(a);
  } else if (m.type == "failed") {
    o["reason"] = m.body;
  } else if (m.type == "affinity") {
    o["file"] = m.file;
    if (m.entries) o["entries"] = m.entries;
    if (!m.restored.empty()) o["restored"] = m.restored;
  }
  auto text = json::serialize(o);
  text.push_back('\n');
  return text;
}

std::optional<ControlMessage> decode(std::string_view line) {
  boost::system::error_code ec;
  auto v = json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto t = o.if_contains("type");
  if (!t || !t->is_string()) return std::nullopt;
  ControlMessage m;
  m.type = std::string(t->as_string());
  auto u64 = [](const json::value* x) -> std::optional<std::uint64_t> {
    if (!x) return std::nullopt;
    if (x->is_uint64()) return x->as_uint64();
    if (x->is_int64() && x->as_int64() >= 0) return static_cast<std::uint64_t>(x->as_int64());
    return std::nullopt;
  };
  if (m.type == "membership" || m.type == "stats") {
    if (m.type == "stats") m.queued = u64(o.if_contains("queued")).value_or(0);
    auto a = o.if_contains("slots");
    if (!a || !a->is_array()) return std::nullopt;
    for (const auto& e : a->as_array()) {
      if (!e.is_object()) return std::nullopt;
      const auto& so = e.as_object();
      auto slot = u64(so.if_contains("slot"));
      if (!slot) return std::nullopt;
      if (m.type == "membership") {
        SlotMembership s;
        s.slot = static_cast<std::uint32_t>(*slot);
        if (auto a2 = so.if_contains("address"); a2 && a2->is_string()) s.address = std::string(a2->as_string());
        auto st = so.if_contains("state");
        if (!st || !st->is_string()) return std::nullopt;
        auto state = slot_state_from(std::string_view(st->as_string()));
        if (!state) return std::nullopt;
        s.state = *state;
        s.generation = u64(so.if_contains("generation")).value_or(0);
        m.slots.push_back(std::move(s));
      } else {
        m.stats.push_back(
            {static_cast<std::uint32_t>(*slot), u64(so.if_contains("in_flight")).value_or(0),
             u64(so.if_contains("requests")).value_or(0), u64(so.if_contains("sessions")),
             u64(so.if_contains("limit"))});
      }
    }
  } else if (m.type == "drained") {
    auto slot = u64(o.if_contains("slot"));
    if (!slot) return std::nullopt;
    m.slot = static_cast<std::uint32_t>(*slot);
    m.generation = u64(o.if_contains("generation")).value_or(0);
  } else if (m.type == "command" || m.type == "reply") {
    auto id = u64(o.if_contains("id"));
    const char* field = m.type == "command" ? "request" : "reply";
    auto body = o.if_contains(field);
    if (!id || !body || !body->is_string()) return std::nullopt;
    m.id = *id;
    m.body = std::string(body->as_string());
    if (auto p = o.if_contains("progress"); p && p->is_array()) {
      for (const auto& e : p->as_array()) {
        if (!e.is_string()) return std::nullopt;
        m.progress.emplace_back(e.as_string());
      }
    }
  } else if (m.type == "affinity") {
    auto f = o.if_contains("file");
    if (!f || !f->is_string() || f->as_string().empty()) return std::nullopt;
    m.file = std::string(f->as_string());
    m.entries = u64(o.if_contains("entries")).value_or(0);
    if (auto r = o.if_contains("restored"); r && r->is_string())
      m.restored = std::string(r->as_string());
  } else if (m.type == "failed") {
    auto reason = o.if_contains("reason");
    if (!reason || !reason->is_string()) return std::nullopt;
    m.body = std::string(reason->as_string());
  } else if (m.type != "drain" && m.type != "unready" && m.type != "ready" && m.type != "save") {
    return std::nullopt;
  }
  return m;
}

}  // namespace corral::proxy
