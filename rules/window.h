// File: rules/window.h
//
// An exact sliding window over one account's legs for one rule: the legs the
// rule accepted whose timestamps lie in (now - length, now]. Aggregates are
// kept incrementally, so Add() and Evict() are O(1) amortised and every query
// below is O(1) unless it says otherwise.
//
// Layout is tuned for many small windows (most accounts hold a handful of
// legs): legs in one vector used as a queue, per-day counts in another (legs
// arrive in time order, so days do too), and per-counterparty stats in a
// small vector that becomes a hash map only past 16 counterparties. An empty
// window allocates nothing.
//
//   Window w;
//   w.EvictOlderThan(leg.ts - rule.window_seconds());
//   w.Add(leg);
//   if (w.size() >= 15 && w.distinct_counterparties() >= 10) ...
//
// Not thread-safe; one owner (the account's state in the engine).
#ifndef TXFLAG_RULES_WINDOW_H_
#define TXFLAG_RULES_WINDOW_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "rules/leg.h"

namespace txflag::rules {

class Window {
 public:
  struct CounterpartyStats {
    uint32_t count = 0;  // legs with this counterparty in the window
    int64_t sum = 0;     // their amounts, base minor units
  };

  // Appends `leg`. Legs must arrive in non-decreasing `ts` (the engine
  // processes in event-time order); a violation is a programmer error.
  void Add(Leg leg);

  // Whether the window already holds this very leg: one with the same ts,
  // payment id, direction, counterparty and amount (the same payment
  // delivered twice by an at-least-once upstream). Legs with an empty
  // payment id are never taken for repeats. `leg.ts` must be >= the newest
  // leg's (the order Add requires); O(legs at that ts).
  bool HoldsRepeatOf(const Leg& leg, std::string_view payment_id) const;

  // Drops every leg with ts < min_ts. Returns how many were dropped.
  size_t EvictOlderThan(int64_t min_ts);

  bool empty() const { return head_ == legs_.size(); }
  size_t size() const { return legs_.size() - head_; }
  // Oldest first. Valid until the window changes.
  std::span<const Leg> legs() const {
    return std::span<const Leg>(legs_).subspan(head_);
  }
  // Sum of amounts, base minor units.
  int64_t sum() const { return sum_; }
  size_t distinct_counterparties() const {
    return map_.empty() ? small_.size() : map_.size();
  }
  // nullptr when `counterparty` has no leg in the window.
  const CounterpartyStats* counterparty(uint64_t counterparty) const;
  // Calls fn(counterparty, stats) for each counterparty in the window.
  template <typename Fn>
  void ForEachCounterparty(Fn fn) const {
    if (map_.empty()) {
      for (const auto& [key, stats] : small_) fn(key, stats);
    } else {
      for (const auto& [key, stats] : map_) fn(key, stats);
    }
  }
  // Number of distinct local days with at least one leg.
  size_t distinct_days() const { return days_.size() - day_head_; }
  // Legs whose local hour h satisfies: start <= h < end when start < end, or
  // h >= start || h < end when start > end (a span across midnight).
  // start == end counts nothing. O(24).
  size_t CountInHours(int start_hour, int end_hour) const;
  // Number of counterparties with at least `min_count` legs and at least
  // `min_sum` summed amount. O(distinct counterparties).
  size_t CountCounterpartiesAtLeast(uint32_t min_count, int64_t min_sum) const;

  // Compact binary encoding of the legs (the aggregates are rebuilt on
  // decode). Appends to `out`.
  void EncodeTo(std::string* out) const;
  // Replaces this window's contents with the legs encoded in `in`, consuming
  // them from the front of `in`. Returns DataLoss if the bytes are corrupt.
  absl::Status DecodeFrom(std::string_view* in);

 private:
  static constexpr size_t kSmallCounterparties = 16;

  CounterpartyStats& CounterpartyFor(uint64_t counterparty);
  void Release(uint64_t counterparty, int64_t amount);
  void ReleaseDay(int32_t day);
  void Clear();

  std::vector<Leg> legs_;  // legs_[head_..] are in the window
  size_t head_ = 0;
  int64_t sum_ = 0;
  // Counterparty stats: small_ while there are few, map_ (and small_ empty)
  // after.
  std::vector<std::pair<uint64_t, CounterpartyStats>> small_;
  absl::flat_hash_map<uint64_t, CounterpartyStats> map_;
  // (local day, legs) in day order; days_[day_head_..] are in the window.
  std::vector<std::pair<int32_t, uint32_t>> days_;
  size_t day_head_ = 0;
  std::array<uint32_t, 24> by_hour_{};
};

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_WINDOW_H_
