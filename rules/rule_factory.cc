#include "rules/rule_factory.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rules/ad_payments.h"
#include "rules/internal/rule_base.h"
#include "rules/rent_patterns.h"
#include "rules/small_transfers.h"

namespace txflag::rules {

absl::StatusOr<std::unique_ptr<Rule>> MakeRule(const txflag::v1::Rule& config,
                                               int base_exponent,
                                               std::string_view base_currency) {
  if (base_exponent < 0 || base_exponent > 18) {
    return absl::InvalidArgumentError(
        absl::StrCat("base_exponent ", base_exponent, " is out of range"));
  }
  internal::Money money{std::string(base_currency), base_exponent};
  switch (config.kind_case()) {
    case txflag::v1::Rule::kSmallTransfers: {
      TXFLAG_ASSIGN_OR_RETURN(auto rule,
                              SmallTransfersRule::Create(config, money));
      return std::unique_ptr<Rule>(std::move(rule));
    }
    case txflag::v1::Rule::kAdPayments: {
      TXFLAG_ASSIGN_OR_RETURN(auto rule, AdPaymentsRule::Create(config, money));
      return std::unique_ptr<Rule>(std::move(rule));
    }
    case txflag::v1::Rule::kRentPatterns: {
      TXFLAG_ASSIGN_OR_RETURN(auto rule,
                              RentPatternsRule::Create(config, money));
      return std::unique_ptr<Rule>(std::move(rule));
    }
    case txflag::v1::Rule::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "rule '", config.id(),
      "' sets no kind: add small_transfers, ad_payments or rent_patterns"));
}

}  // namespace txflag::rules
