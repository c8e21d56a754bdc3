// File: rules/window.h
//
// An exact sliding window over one account's legs for one rule: the legs the
// rule accepted whose timestamps lie in (now - length, now]. Aggregates are
// kept incrementally, so Add() and Evict() are O(1) amortised and every query
// below is O(1) unless it says otherwise.
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
#include <deque>
#include <string>
#include <string_view>

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

  // Drops every leg with ts < min_ts. Returns how many were dropped.
  size_t EvictOlderThan(int64_t min_ts);

  bool empty() const { return legs_.empty(); }
  size_t size() const { return legs_.size(); }
  // Oldest first.
  const std::deque<Leg>& legs() const { return legs_; }
  // Sum of amounts, base minor units.
  int64_t sum() const { return sum_; }
  size_t distinct_counterparties() const { return by_counterparty_.size(); }
  // nullptr when `counterparty` has no leg in the window.
  const CounterpartyStats* counterparty(uint64_t counterparty) const;
  const absl::flat_hash_map<uint64_t, CounterpartyStats>& counterparties()
      const {
    return by_counterparty_;
  }
  // Number of distinct local days with at least one leg.
  size_t distinct_days() const { return by_day_.size(); }
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
  std::deque<Leg> legs_;
  int64_t sum_ = 0;
  absl::flat_hash_map<uint64_t, CounterpartyStats> by_counterparty_;
  absl::flat_hash_map<int32_t, uint32_t> by_day_;
  std::array<uint32_t, 24> by_hour_{};
};

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_WINDOW_H_
