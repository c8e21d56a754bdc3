// File: rules/rent_patterns.h
//
// Rent-like payments (a rent keyword in the reference) in three scenarios
// (indicators.md #14): a payer paying one landlord daily or weekly at a rate
// far above a normal room rent (HIGH_RATE), a payer paying rent to several
// landlords (SEVERAL_LANDLORDS), a landlord receiving such high-rate rent
// from several payers (MANY_PAYERS). Configured by txflag.v1.RentPatternsRule;
// see docs/rules.md.
#ifndef TXFLAG_RULES_RENT_PATTERNS_H_
#define TXFLAG_RULES_RENT_PATTERNS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/rule_pack.pb.h"
#include "rules/internal/rule_base.h"
#include "rules/rule.h"
#include "rules/text_match.h"

namespace txflag::rules {

class RentPatternsRule final : public internal::RuleBase {
 public:
  // Used when the pack lists no reference_keyword.
  static const std::vector<std::string>& DefaultKeywords();

  // `config` must hold a rent_patterns kind; InvalidArgument otherwise.
  static absl::StatusOr<std::unique_ptr<RentPatternsRule>> Create(
      const txflag::v1::Rule& config, internal::Money money);

  bool Accepts(const txflag::v1::PaymentView& payment, Leg* leg) const override;
  // HIGH_RATE: O(window size) when it fires, O(1) otherwise.
  // SEVERAL_LANDLORDS: O(1), O(window size) when it fires.
  // MANY_PAYERS: O(distinct payers), O(window size) when it fires.
  std::optional<Hit> Evaluate(const Leg& leg,
                              const Window& window) const override;

 private:
  RentPatternsRule(const txflag::v1::Rule& config, internal::Money money);

  std::optional<Hit> EvaluateHighRate(const Leg& leg,
                                      const Window& window) const;
  std::optional<Hit> EvaluateSeveralLandlords(const Window& window) const;
  std::optional<Hit> EvaluateManyPayers(const Window& window) const;

  txflag::v1::RentPatternsRule c_;
  KeywordMatcher keywords_;
  uint32_t channels_ = 0;           // bit per Payment::Channel
  int64_t min_total_ = 0;           // base minor units
  int64_t min_landlord_total_ = 0;  // base minor units
};

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_RENT_PATTERNS_H_
