// File: rules/rule.h
//
// A Rule judges one account from its window of accepted legs. Evaluation is a
// pure function of the new leg and the window: no I/O, no clock, no hidden
// state, so rules are tested and benchmarked alone and a back-test and a
// streaming run give the same alerts.
//
// The engine drives each rule like this, for each leg of each payment:
//
//   if (rule.Accepts(payment, &leg)) {           // may set leg.flags
//     window.EvictOlderThan(leg.ts - rule.window_seconds() + 1);
//     window.Add(leg);
//     if (std::optional<Hit> hit = rule.Evaluate(window.legs().back(), window))
//       RaiseOrExtendAlert(account, rule, *hit);
//   }
#ifndef TXFLAG_RULES_RULE_H_
#define TXFLAG_RULES_RULE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/alert.pb.h"
#include "proto/payment.pb.h"
#include "proto/payment_view.h"
#include "rules/leg.h"
#include "rules/window.h"

namespace txflag::rules {

// What a rule reports when it fires.
struct Hit {
  // The legs (in the window passed to Evaluate) that made the rule fire,
  // oldest first. Valid only until the window changes.
  std::vector<const Leg*> legs;
  // The aggregates compared with thresholds, with the thresholds.
  std::vector<txflag::v1::Aggregate> aggregates;
  // One or two sentences for an analyst, naming the figures.
  std::string explanation;
  // >= 1: how far past its thresholds the hit is (1 = just at them). The
  // alert's score is min(100, base_score * strength).
  double strength = 1.0;
};

class Rule {
 public:
  virtual ~Rule() = default;

  // The rule's id in the pack ("small_transfers_in").
  virtual const std::string& id() const = 0;
  // Typologies stamped on its alerts ("SE", "FL", "DB").
  virtual const std::vector<std::string>& typologies() const = 0;
  virtual double base_score() const = 0;
  // Length of the sliding window in seconds: legs older than
  // (now - window_seconds) are evicted.
  virtual int64_t window_seconds() const = 0;

  // Whether `leg` (a side of `payment`) belongs in this rule's window. May set
  // bits in leg->flags for Evaluate to read later. Must not keep `payment`.
  // Cheap: called for every leg of every payment. leg->counterparty and
  // leg->payment_id are not filled in yet (the engine computes them only for
  // legs some rule keeps): read the payment instead.
  virtual bool Accepts(const txflag::v1::PaymentView& payment,
                       Leg* leg) const = 0;

  // Judges the account after `leg` (the newest leg of `window`) was added.
  // Returns a Hit when the thresholds are met, nullopt otherwise.
  virtual std::optional<Hit> Evaluate(const Leg& leg,
                                      const Window& window) const = 0;
};

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_RULE_H_
