// File: rules/small_transfers.h
//
// Many small payments from (INCOMING) or to (OUTGOING) many distinct
// counterparties in a sliding window, on several days and largely at night:
// buyers paying a person who is sold for sex (indicators.md #7), or a
// controller structuring payouts. Configured by txflag.v1.SmallTransfersRule;
// see docs/rules.md.
//
//   auto rule = SmallTransfersRule::Create(config, {"DKK", 2});
#ifndef TXFLAG_RULES_SMALL_TRANSFERS_H_
#define TXFLAG_RULES_SMALL_TRANSFERS_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "proto/rule_pack.pb.h"
#include "rules/internal/rule_base.h"
#include "rules/rule.h"

namespace txflag::rules {

class SmallTransfersRule final : public internal::RuleBase {
 public:
  // `config` must hold a small_transfers kind. InvalidArgument for values the
  // rule cannot run with (rule_pack.cc reports them with line numbers first).
  static absl::StatusOr<std::unique_ptr<SmallTransfersRule>> Create(
      const txflag::v1::Rule& config, internal::Money money);

  bool Accepts(const txflag::v1::PaymentView& payment, Leg* leg) const override;
  std::optional<Hit> Evaluate(const Leg& leg,
                              const Window& window) const override;

 private:
  SmallTransfersRule(const txflag::v1::Rule& config, internal::Money money);

  txflag::v1::SmallTransfersRule c_;
  int64_t min_amount_ = 0;  // base minor units
  int64_t max_amount_ = 0;
  uint32_t channels_ = 0;  // bit per Payment::Channel
};

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_SMALL_TRANSFERS_H_
