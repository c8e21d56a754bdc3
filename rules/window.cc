#include "rules/window.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace txflag::rules {
namespace {

// Encoding, version 1:
//
//   byte     version (1)
//   varint   number of legs
//   per leg:
//     varint   ts: zigzag of the absolute value for the first leg, then the
//              (non-negative) delta from the previous leg
//     varint   zigzag(amount)
//     fixed64  counterparty, little endian (a hash: varints would not help)
//     varint   zigzag(local_day - previous local_day) (0 before the first)
//     byte     local_hour (0-23)
//     byte     direction
//     byte     channel
//     varint   mcc
//     byte     flags
//     varint   payment_id length, then its bytes
constexpr uint8_t kVersion = 1;
// The fewest bytes a leg can take: 1+1+8+1+1+1+1+1+1+1.
constexpr size_t kMinLegBytes = 17;

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutFixed64(uint64_t v, std::string* out) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(buf, 8);
}

// Reads from `in` at `*pos`; all return false on truncated or malformed input.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return false;  // overflows 64 bits
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (in_.size() - pos_ < 8) return false;
    uint64_t result = 0;
    for (int i = 0; i < 8; ++i) {
      result |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i]))
                << (8 * i);
    }
    pos_ += 8;
    *v = result;
    return true;
  }
  bool Byte(uint8_t* v) {
    if (pos_ >= in_.size()) return false;
    *v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool Bytes(size_t n, std::string* v) {
    if (in_.size() - pos_ < n) return false;
    v->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

absl::Status Corrupt(std::string_view what, size_t leg) {
  return absl::DataLossError(absl::StrCat(
      "corrupt window encoding: ", absl::string_view(what.data(), what.size()),
      " (leg ", leg, ")"));
}

}  // namespace

Window::CounterpartyStats& Window::CounterpartyFor(uint64_t counterparty) {
  if (!map_.empty()) return map_[counterparty];
  for (auto& [key, stats] : small_) {
    if (key == counterparty) return stats;
  }
  if (small_.size() < kSmallCounterparties) {
    small_.emplace_back(counterparty, CounterpartyStats{});
    return small_.back().second;
  }
  map_.reserve(2 * kSmallCounterparties);
  for (const auto& [key, stats] : small_) map_.emplace(key, stats);
  small_.clear();
  small_.shrink_to_fit();
  return map_[counterparty];
}

void Window::Release(uint64_t counterparty, int64_t amount) {
  if (!map_.empty()) {
    auto it = map_.find(counterparty);
    if (--it->second.count == 0) {
      map_.erase(it);
    } else {
      it->second.sum -= amount;
    }
    return;
  }
  for (size_t i = 0; i < small_.size(); ++i) {
    if (small_[i].first != counterparty) continue;
    if (--small_[i].second.count == 0) {
      small_[i] = small_.back();
      small_.pop_back();
    } else {
      small_[i].second.sum -= amount;
    }
    return;
  }
}

void Window::ReleaseDay(int32_t day) {
  if (days_[day_head_].first == day) {  // the usual case: the oldest day
    if (--days_[day_head_].second == 0) ++day_head_;
    return;
  }
  auto it = std::lower_bound(
      days_.begin() + static_cast<ptrdiff_t>(day_head_), days_.end(), day,
      [](const auto& entry, int32_t d) { return entry.first < d; });
  if (--it->second == 0) days_.erase(it);
}

bool Window::HoldsRepeatOf(const Leg& leg, std::string_view payment_id) const {
  if (payment_id.empty()) return false;
  // Legs are in ts order, so a repeat sits among the last ones.
  for (size_t i = legs_.size(); i > head_ && legs_[i - 1].ts == leg.ts; --i) {
    const Leg& held = legs_[i - 1];
    if (held.payment_id == payment_id && held.direction == leg.direction &&
        held.counterparty == leg.counterparty && held.amount == leg.amount) {
      return true;
    }
  }
  return false;
}

void Window::Add(Leg leg) {
  assert(empty() || legs_.back().ts <= leg.ts);
  assert(leg.local_hour < 24);
  sum_ += leg.amount;
  CounterpartyStats& cp = CounterpartyFor(leg.counterparty);
  ++cp.count;
  cp.sum += leg.amount;
  // Local days follow timestamps, so a leg's day is almost always the
  // latest one; the general case keeps days_ sorted all the same.
  if (day_head_ == days_.size() || days_.back().first < leg.local_day) {
    days_.emplace_back(leg.local_day, 1);
  } else {
    auto it = std::lower_bound(
        days_.begin() + static_cast<ptrdiff_t>(day_head_), days_.end(),
        leg.local_day,
        [](const auto& entry, int32_t day) { return entry.first < day; });
    if (it != days_.end() && it->first == leg.local_day) {
      ++it->second;
    } else {
      days_.insert(it, {leg.local_day, 1});
    }
  }
  ++by_hour_[leg.local_hour % 24];
  legs_.push_back(std::move(leg));
}

size_t Window::EvictOlderThan(int64_t min_ts) {
  size_t dropped = 0;
  while (head_ < legs_.size() && legs_[head_].ts < min_ts) {
    const Leg& leg = legs_[head_];
    sum_ -= leg.amount;
    Release(leg.counterparty, leg.amount);
    ReleaseDay(leg.local_day);
    --by_hour_[leg.local_hour % 24];
    ++head_;
    ++dropped;
  }
  if (dropped == 0) return 0;
  if (head_ == legs_.size()) {
    // Empty again: keep the capacity for the account's next legs (the engine
    // frees whole accounts once they go idle).
    legs_.clear();
    head_ = 0;
    small_.clear();
    map_.clear();
    days_.clear();
    day_head_ = 0;
  } else if (head_ >= 32 && head_ * 2 >= legs_.size()) {
    // Compact: the evicted prefix is at least half the storage.
    legs_.erase(legs_.begin(), legs_.begin() + static_cast<ptrdiff_t>(head_));
    head_ = 0;
  }
  if (day_head_ >= 16 && day_head_ * 2 >= days_.size()) {
    days_.erase(days_.begin(),
                days_.begin() + static_cast<ptrdiff_t>(day_head_));
    day_head_ = 0;
  }
  return dropped;
}

void Window::Clear() {
  // Give the memory back: most windows empty out and stay empty.
  std::vector<Leg>().swap(legs_);
  head_ = 0;
  sum_ = 0;
  std::vector<std::pair<uint64_t, CounterpartyStats>>().swap(small_);
  absl::flat_hash_map<uint64_t, CounterpartyStats>().swap(map_);
  std::vector<std::pair<int32_t, uint32_t>>().swap(days_);
  day_head_ = 0;
  by_hour_.fill(0);
}

const Window::CounterpartyStats* Window::counterparty(
    uint64_t counterparty) const {
  if (!map_.empty()) {
    auto it = map_.find(counterparty);
    return it == map_.end() ? nullptr : &it->second;
  }
  for (const auto& [key, stats] : small_) {
    if (key == counterparty) return &stats;
  }
  return nullptr;
}

size_t Window::CountInHours(int start_hour, int end_hour) const {
  if (start_hour < 0) start_hour = 0;
  if (end_hour < 0) end_hour = 0;
  if (start_hour > 24) start_hour = 24;
  if (end_hour > 24) end_hour = 24;
  size_t n = 0;
  if (start_hour < end_hour) {
    for (int h = start_hour; h < end_hour; ++h) n += by_hour_[h];
  } else if (start_hour > end_hour) {
    for (int h = start_hour; h < 24; ++h) n += by_hour_[h];
    for (int h = 0; h < end_hour; ++h) n += by_hour_[h];
  }
  return n;
}

size_t Window::CountCounterpartiesAtLeast(uint32_t min_count,
                                          int64_t min_sum) const {
  size_t n = 0;
  ForEachCounterparty([&](uint64_t, const CounterpartyStats& stats) {
    if (stats.count >= min_count && stats.sum >= min_sum) ++n;
  });
  return n;
}

void Window::EncodeTo(std::string* out) const {
  out->push_back(static_cast<char>(kVersion));
  PutVarint(size(), out);
  int64_t prev_ts = 0;
  int32_t prev_day = 0;
  bool first = true;
  for (const Leg& leg : legs()) {
    if (first) {
      PutVarint(ZigZag(leg.ts), out);
    } else {
      PutVarint(static_cast<uint64_t>(leg.ts - prev_ts), out);
    }
    first = false;
    prev_ts = leg.ts;
    PutVarint(ZigZag(leg.amount), out);
    PutFixed64(leg.counterparty, out);
    PutVarint(ZigZag(static_cast<int64_t>(leg.local_day) - prev_day), out);
    prev_day = leg.local_day;
    out->push_back(static_cast<char>(leg.local_hour));
    out->push_back(static_cast<char>(leg.direction));
    out->push_back(static_cast<char>(leg.channel));
    PutVarint(leg.mcc, out);
    out->push_back(static_cast<char>(leg.flags));
    PutVarint(leg.payment_id.size(), out);
    out->append(leg.payment_id);
  }
}

absl::Status Window::DecodeFrom(std::string_view* in) {
  Reader r(*in);
  uint8_t version;
  if (!r.Byte(&version)) return Corrupt("empty input", 0);
  if (version != kVersion) {
    return absl::DataLossError(
        absl::StrCat("corrupt window encoding: unknown version ",
                     static_cast<int>(version)));
  }
  uint64_t count;
  if (!r.Varint(&count)) return Corrupt("truncated leg count", 0);
  if (count > r.remaining() / kMinLegBytes) {
    return Corrupt("leg count larger than the input", 0);
  }
  std::vector<Leg> legs;
  legs.reserve(static_cast<size_t>(count));
  int64_t total = 0;
  int64_t prev_ts = 0;
  int32_t prev_day = 0;
  for (uint64_t i = 0; i < count; ++i) {
    Leg leg;
    uint64_t v;
    if (!r.Varint(&v)) return Corrupt("truncated ts", i);
    if (i == 0) {
      leg.ts = UnZigZag(v);
    } else {
      if (v > static_cast<uint64_t>(INT64_MAX) ||
          prev_ts > INT64_MAX - static_cast<int64_t>(v)) {
        return Corrupt("ts out of range", i);
      }
      leg.ts = prev_ts + static_cast<int64_t>(v);
    }
    prev_ts = leg.ts;
    if (!r.Varint(&v)) return Corrupt("truncated amount", i);
    leg.amount = UnZigZag(v);
    if (leg.amount < 0 || total > INT64_MAX - leg.amount) {
      return Corrupt("amount out of range", i);
    }
    total += leg.amount;
    if (!r.Fixed64(&leg.counterparty)) {
      return Corrupt("truncated counterparty", i);
    }
    if (!r.Varint(&v)) return Corrupt("truncated local day", i);
    int64_t day = static_cast<int64_t>(prev_day) + UnZigZag(v);
    if (day < INT32_MIN || day > INT32_MAX) {
      return Corrupt("local day out of range", i);
    }
    leg.local_day = static_cast<int32_t>(day);
    prev_day = leg.local_day;
    uint8_t b;
    if (!r.Byte(&b)) return Corrupt("truncated local hour", i);
    if (b >= 24) return Corrupt("local hour out of range", i);
    leg.local_hour = b;
    if (!r.Byte(&b)) return Corrupt("truncated direction", i);
    if (!txflag::v1::Direction_IsValid(b)) {
      return Corrupt("unknown direction", i);
    }
    leg.direction = static_cast<txflag::v1::Direction>(b);
    if (!r.Byte(&b)) return Corrupt("truncated channel", i);
    if (!txflag::v1::Payment::Channel_IsValid(b)) {
      return Corrupt("unknown channel", i);
    }
    leg.channel = static_cast<txflag::v1::Payment::Channel>(b);
    if (!r.Varint(&v)) return Corrupt("truncated mcc", i);
    if (v > UINT16_MAX) return Corrupt("mcc out of range", i);
    leg.mcc = static_cast<uint16_t>(v);
    if (!r.Byte(&leg.flags)) return Corrupt("truncated flags", i);
    if (!r.Varint(&v)) return Corrupt("truncated payment id length", i);
    if (v > r.remaining()) return Corrupt("truncated payment id", i);
    if (!r.Bytes(static_cast<size_t>(v), &leg.payment_id)) {
      return Corrupt("truncated payment id", i);
    }
    legs.push_back(std::move(leg));
  }

  // All bytes were good: replace the contents.
  Clear();
  for (Leg& leg : legs) Add(std::move(leg));
  in->remove_prefix(r.pos());
  return absl::OkStatus();
}

}  // namespace txflag::rules
