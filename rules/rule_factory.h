// File: rules/rule_factory.h
//
// Builds the Rule a txflag.v1.Rule configures, whatever its kind.
//
//   TXFLAG_ASSIGN_OR_RETURN(std::unique_ptr<Rule> rule,
//                           MakeRule(pack.rule(0), /*base_exponent=*/2));
//
// Thresholds in the config are major units of the pack's base currency and
// are converted to minor units with llround(x * 10^base_exponent).
// CompileRulePack() validates the config first and reports problems with file
// and line; MakeRule() only refuses what a rule cannot run with.
#ifndef TXFLAG_RULES_RULE_FACTORY_H_
#define TXFLAG_RULES_RULE_FACTORY_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/rule_pack.pb.h"
#include "rules/rule.h"

namespace txflag::rules {

// Returns InvalidArgument (naming the rule id) when no kind is set or a value
// is unusable. `base_currency` is the ISO 4217 code used in aggregates' units
// and in explanations.
absl::StatusOr<std::unique_ptr<Rule>> MakeRule(
    const txflag::v1::Rule& config, int base_exponent,
    std::string_view base_currency = "DKK");

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_RULE_FACTORY_H_
