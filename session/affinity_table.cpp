#include "session/affinity_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <mutex>

#include "balancer/key_hash.hpp"

namespace corral::session {

namespace {

constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

// Seconds on the injected clock, modulo 2^32: differences stay right for 136 years.
std::uint32_t seconds_of(AffinityTable::TimePoint t) {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

// Seconds from `then` to `now`; 0 when `now` is earlier (another thread read the clock a
// moment before us and took the lock after us).
std::uint32_t seconds_between(std::uint32_t then, std::uint32_t now) {
  const auto d = static_cast<std::int32_t>(now - then);
  return d > 0 ? static_cast<std::uint32_t>(d) : 0;
}

// Snapshot layout, little-endian: "CRAT", version, 3 zero bytes, entry count (u64), then per
// entry fingerprint (u64), slot (u32), seconds idle (u32).
constexpr char snapshot_magic[4] = {'C', 'R', 'A', 'T'};
constexpr unsigned char snapshot_version = 1;
constexpr std::size_t snapshot_header = 16;
constexpr std::size_t snapshot_entry = 16;

static_assert(std::endian::native == std::endian::little, "snapshots are written little-endian");

template <class T>
void put(std::string& out, T v) {
  char bytes[sizeof v];
  std::memcpy(bytes, &v, sizeof v);
  out.append(bytes, sizeof v);
}

template <class T>
T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

// One lock's worth of the table. Entries sit densely in `entries_` (a removal moves the last
// one into the hole), chained from most to least recently used; `buckets_` is a linear-probing
// index over them whose tag is the fingerprint's low 32 bits, so probing, removal (backward
// shift) and growth never touch the entries of other keys.
struct alignas(64) AffinityTable::Shard {
  struct Entry {
    std::uint64_t fp;
    SlotId slot;
    std::uint32_t last_used;  // seconds_of(now) at the last learn or lookup
    std::uint32_t prev;       // towards the most recently used; none at the head
    std::uint32_t next;       // towards the least recently used; none at the tail
  };
  static_assert(sizeof(Entry) == 24);

  struct Bucket {
    std::uint32_t tag = 0;
    std::uint32_t index = none;  // into entries_; none when the bucket is empty
  };
  static_assert(sizeof(Bucket) == 8);

  mutable std::mutex mutex;
  std::uint32_t capacity = 0;  // most entries this shard holds
  std::vector<Entry> entries;
  std::vector<Bucket> buckets;  // a power of two in size, or empty
  std::uint32_t head = none;    // most recently used
  std::uint32_t tail = none;    // least recently used
  AffinityCounters counters;

  std::size_t mask() const { return buckets.size() - 1; }

  // The bucket that indexes `fp`, or none.
  std::uint32_t find(std::uint64_t fp) const {
    if (buckets.empty()) return none;
    const auto tag = static_cast<std::uint32_t>(fp);
    for (std::size_t i = tag & mask();; i = (i + 1) & mask()) {
      const Bucket& b = buckets[i];
      if (b.index == none) return none;
      if (b.tag == tag && entries[b.index].fp == fp) return static_cast<std::uint32_t>(i);
    }
  }

  // The bucket that points at entry `index` (whose fingerprint is `fp`); it exists.
  std::size_t bucket_of(std::uint64_t fp, std::uint32_t index) const {
    for (std::size_t i = static_cast<std::uint32_t>(fp) & mask();; i = (i + 1) & mask())
      if (buckets[i].index == index) return i;
  }

  void place(Bucket b) {
    std::size_t i = b.tag & mask();
    while (buckets[i].index != none) i = (i + 1) & mask();
    buckets[i] = b;
  }

  // Keeps the index at most 5/8 full: a miss (the common case under a cookie flood) then
  // probes about four buckets, 32 bytes, usually one cache line.
  void grow_index_for(std::size_t count) {
    if (count * 8 <= buckets.size() * 5) return;
    std::size_t size = std::max<std::size_t>(buckets.size() * 2, 16);
    while (count * 8 > size * 5) size *= 2;
    std::vector<Bucket> old(size);
    old.swap(buckets);
    for (const Bucket& b : old)
      if (b.index != none) place(b);
  }

  // Entries grow by doubling up to the capacity, so a full shard holds no spare room.
  void grow_entries_for(std::size_t count) {
    if (count <= entries.capacity()) return;
    entries.reserve(
        std::min<std::size_t>(capacity, std::max<std::size_t>(entries.capacity() * 2, 16)));
  }

  void link_front(std::uint32_t e) {
    entries[e].prev = none;
    entries[e].next = head;
    if (head != none) entries[head].prev = e;
    head = e;
    if (tail == none) tail = e;
  }

  void unlink(std::uint32_t e) {
    const Entry& x = entries[e];
    if (x.prev != none)
      entries[x.prev].next = x.next;
    else
      head = x.next;
    if (x.next != none)
      entries[x.next].prev = x.prev;
    else
      tail = x.prev;
  }

  void touch(std::uint32_t e, std::uint32_t now) {
    entries[e].last_used = now;
    if (head == e) return;
    unlink(e);
    link_front(e);
  }

  // Removes the entry indexed by bucket `at`.
  void erase(std::size_t at) {
    const std::uint32_t e = buckets[at].index;

    // Backward-shift deletion: pull later members of the probe run into the hole unless that
    // would put them before their home bucket. Tags hold the home, so no entry is read.
    std::size_t hole = at;
    for (std::size_t j = (hole + 1) & mask(); buckets[j].index != none; j = (j + 1) & mask()) {
      const std::size_t home = buckets[j].tag & mask();
      if (((j - home) & mask()) >= ((j - hole) & mask())) {
        buckets[hole] = buckets[j];
        hole = j;
      }
    }
    buckets[hole] = Bucket{};

    unlink(e);
    const auto last = static_cast<std::uint32_t>(entries.size() - 1);
    if (e != last) {
      const Entry moved = entries[last];
      buckets[bucket_of(moved.fp, last)].index = e;
      entries[e] = moved;
      if (moved.prev != none)
        entries[moved.prev].next = e;
      else
        head = e;
      if (moved.next != none)
        entries[moved.next].prev = e;
      else
        tail = e;
    }
    entries.pop_back();
  }

  bool is_expired(const Entry& x, std::uint32_t now, std::uint32_t ttl) const {
    return ttl != 0 && seconds_between(x.last_used, now) >= ttl;
  }

  // Drops expired entries from the LRU end, at most `limit`. The tail is the least recently
  // used, so the walk stops at the first live one.
  std::size_t drop_expired(std::uint32_t now, std::uint32_t ttl, std::size_t limit) {
    std::size_t dropped = 0;
    while (dropped < limit && tail != none && is_expired(entries[tail], now, ttl)) {
      erase(bucket_of(entries[tail].fp, tail));
      ++dropped;
    }
    counters.expired += dropped;
    return dropped;
  }

  // Pins fp to `slot`, last used at `used` (now, or earlier for a restored entry). `learning`:
  // a learn, counted and always the latest word; otherwise a restore, where the more recent
  // use of a key wins and nothing is counted as learned.
  void store(std::uint64_t fp, SlotId slot, std::uint32_t used, std::uint32_t now,
             std::uint32_t ttl, bool learning) {
    if (capacity == 0) return;
    if (const std::uint32_t at = find(fp); at != none) {
      const std::uint32_t e = buckets[at].index;
      // A restored pin yields to one here that is as recent or more.
      if (!learning && seconds_between(entries[e].last_used, used) == 0) return;
      if (learning && entries[e].slot != slot) ++counters.learned;
      entries[e].slot = slot;
      touch(e, used);
      return;
    }
    // Bounded work under the lock: a few expired entries now, the rest by sweep() or later.
    drop_expired(now, ttl, 4);
    if (entries.size() >= capacity) {
      erase(bucket_of(entries[tail].fp, tail));
      ++counters.evicted;
    }
    grow_entries_for(entries.size() + 1);
    grow_index_for(entries.size() + 1);
    const auto e = static_cast<std::uint32_t>(entries.size());
    entries.push_back(Entry{fp, slot, used, none, none});
    link_front(e);
    place(Bucket{static_cast<std::uint32_t>(fp), e});
    if (learning) ++counters.learned;
  }
};

std::uint64_t AffinityTable::fingerprint(std::string_view key) { return balancer::hash_key(key); }

AffinityTable::AffinityTable(const AffinityTableOptions& options)
    : max_entries_(std::min<std::size_t>(options.max_entries, none - 1)),
      idle_ttl_s_(static_cast<std::uint32_t>(std::clamp<std::chrono::seconds::rep>(
          options.idle_ttl.count(), 0, std::numeric_limits<std::int32_t>::max()))) {
  std::size_t shards = std::bit_floor(std::clamp<std::size_t>(options.shards, 1, 64));
  shards = std::min(shards, std::max<std::size_t>(std::bit_floor(max_entries_), 1));
  shard_count_ = shards;
  shard_bits_ = static_cast<unsigned>(std::countr_zero(shards));
  shards_ = std::make_unique<Shard[]>(shards);
  for (std::size_t i = 0; i < shards; ++i)
    shards_[i].capacity =
        static_cast<std::uint32_t>(max_entries_ / shards + (i < max_entries_ % shards));
}

AffinityTable::~AffinityTable() = default;

AffinityTable::Shard& AffinityTable::shard_for(std::uint64_t fp) const {
  // The top bits: the index uses the low ones, so shard and bucket choices stay independent.
  return shards_[shard_bits_ == 0 ? 0 : fp >> (64 - shard_bits_)];
}

std::optional<SlotId> AffinityTable::lookup(std::string_view key, TimePoint now) {
  const std::uint64_t fp = fingerprint(key);
  Shard& shard = shard_for(fp);
  const std::uint32_t t = seconds_of(now);
  std::lock_guard lock(shard.mutex);
  const std::uint32_t at = shard.find(fp);
  if (at == none) {
    ++shard.counters.misses;
    return std::nullopt;
  }
  const std::uint32_t e = shard.buckets[at].index;
  if (shard.is_expired(shard.entries[e], t, idle_ttl_s_)) {
    shard.erase(at);
    ++shard.counters.expired;
    ++shard.counters.misses;
    return std::nullopt;
  }
  shard.touch(e, t);
  ++shard.counters.hits;
  return shard.entries[e].slot;
}

void AffinityTable::learn(std::string_view key, SlotId slot, TimePoint now) {
  const std::uint64_t fp = fingerprint(key);
  Shard& shard = shard_for(fp);
  const std::uint32_t t = seconds_of(now);
  std::lock_guard lock(shard.mutex);
  shard.store(fp, slot, t, t, idle_ttl_s_, true);
}

bool AffinityTable::forget(std::string_view key) {
  const std::uint64_t fp = fingerprint(key);
  Shard& shard = shard_for(fp);
  std::lock_guard lock(shard.mutex);
  const std::uint32_t at = shard.find(fp);
  if (at == none) return false;
  shard.erase(at);
  ++shard.counters.forgotten;
  return true;
}

std::size_t AffinityTable::sweep(TimePoint now) {
  const std::uint32_t t = seconds_of(now);
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    dropped += shards_[i].drop_expired(t, idle_ttl_s_, std::numeric_limits<std::size_t>::max());
  }
  return dropped;
}

std::size_t AffinityTable::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    n += shards_[i].entries.size();
  }
  return n;
}

AffinityCounters AffinityTable::counters() const {
  AffinityCounters sum;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    const AffinityCounters& c = shards_[i].counters;
    sum.hits += c.hits;
    sum.misses += c.misses;
    sum.learned += c.learned;
    sum.expired += c.expired;
    sum.evicted += c.evicted;
    sum.forgotten += c.forgotten;
  }
  return sum;
}

std::size_t AffinityTable::memory_bytes() const {
  std::size_t bytes = sizeof(*this) + shard_count_ * sizeof(Shard);
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    bytes += shards_[i].entries.capacity() * sizeof(Shard::Entry) +
             shards_[i].buckets.capacity() * sizeof(Shard::Bucket);
  }
  return bytes;
}

std::vector<std::size_t> AffinityTable::sessions_per_slot(std::size_t slot_count,
                                                          TimePoint now) const {
  std::vector<std::size_t> counts(slot_count, 0);
  const std::uint32_t t = seconds_of(now);
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    for (const Shard::Entry& x : shards_[i].entries)
      if (x.slot < slot_count && !shards_[i].is_expired(x, t, idle_ttl_s_)) ++counts[x.slot];
  }
  return counts;
}

std::string AffinityTable::snapshot(TimePoint now) const {
  const std::uint32_t t = seconds_of(now);
  std::string out;
  out.reserve(snapshot_header + size() * snapshot_entry);
  out.append(snapshot_magic, sizeof snapshot_magic);
  out.push_back(static_cast<char>(snapshot_version));
  out.append(3, '\0');
  const std::size_t count_at = out.size();
  put<std::uint64_t>(out, 0);
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    const Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    // Least recently used first: a reader that stores them in order rebuilds the LRU order.
    for (std::uint32_t e = shard.tail; e != none; e = shard.entries[e].prev) {
      const Shard::Entry& x = shard.entries[e];
      if (shard.is_expired(x, t, idle_ttl_s_)) continue;
      put<std::uint64_t>(out, x.fp);
      put<std::uint32_t>(out, x.slot);
      put<std::uint32_t>(out, seconds_between(x.last_used, t));
      ++count;
    }
  }
  std::memcpy(out.data() + count_at, &count, sizeof count);
  return out;
}

bool AffinityTable::restore(std::string_view bytes, TimePoint now) {
  if (bytes.size() < snapshot_header ||
      std::memcmp(bytes.data(), snapshot_magic, sizeof snapshot_magic) != 0 ||
      static_cast<unsigned char>(bytes[4]) != snapshot_version)
    return false;
  const auto count = get<std::uint64_t>(bytes.data() + 8);
  if (count > (bytes.size() - snapshot_header) / snapshot_entry ||
      bytes.size() != snapshot_header + count * snapshot_entry)
    return false;

  struct Item {
    std::uint64_t fp;
    SlotId slot;
    std::uint32_t idle;
  };
  std::vector<Item> items;
  items.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const char* p = bytes.data() + snapshot_header + i * snapshot_entry;
    const Item item{get<std::uint64_t>(p), get<std::uint32_t>(p + 8), get<std::uint32_t>(p + 12)};
    if (idle_ttl_s_ != 0 && item.idle >= idle_ttl_s_) continue;
    items.push_back(item);
  }
  // Oldest first across all of the writer's shards, whatever its shard count was.
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.idle > b.idle; });

  const std::uint32_t t = seconds_of(now);
  for (const Item& item : items) {
    Shard& shard = shard_for(item.fp);
    std::lock_guard lock(shard.mutex);
    shard.store(item.fp, item.slot, t - item.idle, t, idle_ttl_s_, false);
  }
  return true;
}

}  // namespace corral::session
