// File: rules/internal/rule_base.h
//
// What the three rule types share: the identity and scoring fields of a
// txflag.v1.Rule, and amount formatting for explanations. Private to rules/.
#ifndef TXFLAG_RULES_INTERNAL_RULE_BASE_H_
#define TXFLAG_RULES_INTERNAL_RULE_BASE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/alert.pb.h"
#include "proto/rule_pack.pb.h"
#include "rules/rule.h"

namespace txflag::rules::internal {

// The base currency the pack's thresholds are written in.
struct Money {
  std::string code = "DKK";  // ISO 4217
  int exponent = 2;          // minor-unit exponent of `code`

  // `major` units (a pack threshold) as minor units: llround(major * 10^e).
  // InvalidArgument when negative, not finite or too large for int64.
  absl::StatusOr<int64_t> ToMinor(double major) const;
  // Minor units as major units (for Aggregate.value).
  double ToMajor(int64_t minor) const;
  // "9,450.00 DKK": thousands separators, `exponent` decimals, the code.
  std::string Format(int64_t minor) const;
  // Like Format() without the code, and without decimals when they are all
  // zero: "2,500" (for thresholds quoted in explanations).
  std::string FormatThreshold(int64_t minor) const;
};

class RuleBase : public Rule {
 public:
  RuleBase(const txflag::v1::Rule& config, uint32_t window_days, Money money);

  const std::string& id() const override { return id_; }
  const std::vector<std::string>& typologies() const override {
    return typologies_;
  }
  double base_score() const override { return base_score_; }
  int64_t window_seconds() const override { return window_seconds_; }

 protected:
  uint32_t window_days() const { return window_days_; }
  const Money& money() const { return money_; }

  static txflag::v1::Aggregate MakeAggregate(std::string_view name,
                                             double value, double threshold,
                                             std::string_view unit);
  // Aggregate "total" of `minor` in the base currency (major units).
  txflag::v1::Aggregate TotalAggregate(std::string_view name,
                                       int64_t minor) const;

 private:
  std::string id_;
  std::vector<std::string> typologies_;
  double base_score_;
  uint32_t window_days_;
  int64_t window_seconds_;
  Money money_;
};

// Whether bit `channel` is set in `mask` (false for out-of-range values).
inline bool InChannelMask(uint32_t mask, int channel) {
  return channel >= 0 && channel < 32 && ((mask >> channel) & 1u) != 0;
}

// "1 payment" / "3 payments".
std::string Plural(size_t n, std::string_view singular,
                   std::string_view plural);

}  // namespace txflag::rules::internal

#endif  // TXFLAG_RULES_INTERNAL_RULE_BASE_H_
