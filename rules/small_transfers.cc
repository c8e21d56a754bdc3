#include "rules/small_transfers.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace txflag::rules {

using txflag::v1::Payment;

SmallTransfersRule::SmallTransfersRule(const txflag::v1::Rule& config,
                                       internal::Money money)
    : RuleBase(config, config.small_transfers().window_days(),
               std::move(money)),
      c_(config.small_transfers()) {}

absl::StatusOr<std::unique_ptr<SmallTransfersRule>> SmallTransfersRule::Create(
    const txflag::v1::Rule& config, internal::Money money) {
  if (!config.has_small_transfers()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", config.id(), "' is not a small_transfers rule"));
  }
  const auto& c = config.small_transfers();
  if (c.window_days() < 1 || c.min_payments() < 1 ||
      c.min_counterparties() < 1 || c.night_start_hour() > 23 ||
      c.night_end_hour() > 23) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rule '", config.id(),
        "': window_days, min_payments and min_counterparties must be >= 1 "
        "and night hours 0-23"));
  }
  std::unique_ptr<SmallTransfersRule> rule(
      new SmallTransfersRule(config, std::move(money)));
  TXFLAG_ASSIGN_OR_RETURN(rule->min_amount_,
                          rule->money().ToMinor(c.min_amount()));
  TXFLAG_ASSIGN_OR_RETURN(rule->max_amount_,
                          rule->money().ToMinor(c.max_amount()));
  if (c.channel().empty()) {
    rule->channels_ = (1u << Payment::MOBILE) | (1u << Payment::TRANSFER);
  } else {
    for (int ch : c.channel()) rule->channels_ |= 1u << ch;
  }
  return rule;
}

bool SmallTransfersRule::Accepts(const txflag::v1::PaymentView& payment,
                                 Leg* leg) const {
  return leg->direction == c_.direction() &&
         internal::InChannelMask(channels_, leg->channel) &&
         leg->amount >= min_amount_ && leg->amount <= max_amount_;
}

std::optional<Hit> SmallTransfersRule::Evaluate(const Leg& leg,
                                                const Window& window) const {
  const size_t payments = window.size();
  const size_t counterparties = window.distinct_counterparties();
  const size_t days = window.distinct_days();
  if (payments < c_.min_payments() ||
      counterparties < c_.min_counterparties() || days < c_.min_active_days()) {
    return std::nullopt;
  }
  const size_t night =
      window.CountInHours(c_.night_start_hour(), c_.night_end_hour());
  const double night_share =
      payments == 0 ? 0.0 : static_cast<double>(night) / payments;
  if (c_.min_night_share() > 0 && night_share < c_.min_night_share()) {
    return std::nullopt;
  }

  const bool incoming = c_.direction() == txflag::v1::INCOMING;
  Hit hit;
  hit.legs.reserve(payments);
  for (const Leg& l : window.legs()) hit.legs.push_back(&l);
  hit.aggregates.push_back(
      MakeAggregate("payments", payments, c_.min_payments(), "count"));
  hit.aggregates.push_back(
      MakeAggregate(incoming ? "distinct_payers" : "distinct_payees",
                    counterparties, c_.min_counterparties(), "count"));
  hit.aggregates.push_back(
      MakeAggregate("active_days", days, c_.min_active_days(), "days"));
  hit.aggregates.push_back(
      MakeAggregate("night_share", night_share, c_.min_night_share(), "share"));
  hit.aggregates.push_back(TotalAggregate("total", window.sum()));
  hit.strength = std::max(
      1.0,
      std::min(static_cast<double>(payments) / c_.min_payments(),
               static_cast<double>(counterparties) / c_.min_counterparties()));

  std::string night_clause;
  if (c_.min_night_share() > 0) {
    night_clause = absl::StrFormat(", %d%% of them between %02d:00 and %02d:00",
                                   static_cast<int>(night_share * 100 + 0.5),
                                   c_.night_start_hour(), c_.night_end_hour());
  }
  hit.explanation =
      absl::StrCat(incoming ? "Received " : "Sent ",
                   internal::Plural(payments, "payment", "payments"), " of ",
                   money().FormatThreshold(min_amount_), "-",
                   money().FormatThreshold(max_amount_), " ", money().code,
                   incoming ? " from " : " to ", counterparties, " distinct ",
                   incoming ? (counterparties == 1 ? "payer" : "payers")
                            : (counterparties == 1 ? "payee" : "payees"),
                   " on ", internal::Plural(days, "day", "days"), " within ",
                   internal::Plural(window_days(), "day", "days"), night_clause,
                   "; ", money().Format(window.sum()), " in all.");
  return hit;
}

}  // namespace txflag::rules
