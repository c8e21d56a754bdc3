// File: rules/ad_payments.h
//
// Repeated small payments to online sex-ad / escort platforms: a watchlist of
// counterparty names and accounts, plus advertising MCCs (indicators.md #1).
// Configured by txflag.v1.AdPaymentsRule; see docs/rules.md.
#ifndef TXFLAG_RULES_AD_PAYMENTS_H_
#define TXFLAG_RULES_AD_PAYMENTS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "proto/rule_pack.pb.h"
#include "rules/internal/rule_base.h"
#include "rules/rule.h"
#include "rules/text_match.h"

namespace txflag::rules {

class AdPaymentsRule final : public internal::RuleBase {
 public:
  // Bit set in Leg::flags when the creditor is on the watchlist (by name or
  // account), as opposed to accepted for its MCC only.
  static constexpr uint8_t kWatchlistFlag = 0x01;

  // `config` must hold an ad_payments kind; InvalidArgument otherwise.
  static absl::StatusOr<std::unique_ptr<AdPaymentsRule>> Create(
      const txflag::v1::Rule& config, internal::Money money);

  bool Accepts(const txflag::v1::PaymentView& payment, Leg* leg) const override;
  // O(window size): counts the watchlisted legs.
  std::optional<Hit> Evaluate(const Leg& leg,
                              const Window& window) const override;

 private:
  AdPaymentsRule(const txflag::v1::Rule& config, internal::Money money);

  txflag::v1::AdPaymentsRule c_;
  int64_t max_amount_ = 0;  // base minor units; 0 = no limit
  NameMatcher names_;
  absl::flat_hash_set<std::string> accounts_;
  absl::flat_hash_set<uint32_t> mccs_;
};

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_AD_PAYMENTS_H_
