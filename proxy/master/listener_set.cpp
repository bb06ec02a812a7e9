#include "proxy/master/listener_set.hpp"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "proxy/inherited_sockets.hpp"

namespace corral::master {
namespace {

std::string key_of(const config::Address& address, unsigned threads) {
  return address.text + "/" + std::to_string(threads);
}

// A listener of `from` with `key` not taken yet, or nullptr.
const HeldListener* find(const std::vector<HeldListener>& from, const std::string& key,
                         const std::vector<const HeldListener*>& taken) {
  for (const HeldListener& h : from) {
    if (h.key == key && std::find(taken.begin(), taken.end(), &h) == taken.end()) return &h;
  }
  return nullptr;
}

}  // namespace

std::vector<proxy::BoundListener> ListenerSet::bound() const {
  std::vector<proxy::BoundListener> out;
  for (const auto& l : listeners) out.push_back(l.bound);
  return out;
}

std::vector<int> ListenerSet::fds() const {
  std::vector<int> out;
  for (const auto& l : listeners) out.insert(out.end(), l.bound.fds.begin(), l.bound.fds.end());
  if (admin) out.insert(out.end(), admin->bound.fds.begin(), admin->bound.fds.end());
  return out;
}

std::string ListenerSet::listen_fds() const { return proxy::describe_listeners(bound()); }

std::string ListenerSet::admin_fd() const {
  return admin ? proxy::describe_listeners({admin->bound}) : std::string();
}

unsigned proxy_threads(const config::Config& config) {
  return config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
}

ListenerSet bind_listeners(const config::Config& config, const ListenerSet* reuse) {
  const unsigned threads = proxy_threads(config);
  ListenerSet out;
  std::vector<const HeldListener*> taken;
  try {
    for (const auto& listener : config.listen) {
      const config::Address& address = listener.address;
      std::string key = key_of(address, threads);
      if (const HeldListener* held = reuse ? find(reuse->listeners, key, taken) : nullptr) {
        taken.push_back(held);
        out.listeners.push_back(*held);
      } else {
        out.listeners.push_back(HeldListener{key, proxy::bind_listener(address, threads)});
      }
    }
    if (config.admin) {
      std::string key = key_of(*config.admin, 1);
      if (reuse && reuse->admin && reuse->admin->key == key) {
        out.admin = reuse->admin;
      } else {
        out.admin = HeldListener{key, proxy::bind_listener(*config.admin, 1, 128)};
      }
    }
  } catch (...) {
    close_listeners(out, reuse ? *reuse : ListenerSet{});
    throw;
  }
  return out;
}

void close_listeners(ListenerSet& set, const ListenerSet& keep) {
  const std::vector<int> kept = keep.fds();
  for (int fd : set.fds()) {
    if (std::find(kept.begin(), kept.end(), fd) == kept.end()) ::close(fd);
  }
  set.listeners.clear();
  set.admin.reset();
}

}  // namespace corral::master
