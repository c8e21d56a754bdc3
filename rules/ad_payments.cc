#include "rules/ad_payments.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"

namespace txflag::rules {

using txflag::v1::Payment;

AdPaymentsRule::AdPaymentsRule(const txflag::v1::Rule& config,
                               internal::Money money)
    : RuleBase(config, config.ad_payments().window_days(), std::move(money)),
      c_(config.ad_payments()),
      names_(std::vector<std::string>(c_.watchlist_name().begin(),
                                      c_.watchlist_name().end())),
      accounts_(c_.watchlist_account().begin(), c_.watchlist_account().end()) {
  if (c_.mcc().empty()) {
    mccs_.insert(7311);
  } else {
    mccs_.insert(c_.mcc().begin(), c_.mcc().end());
  }
}

absl::StatusOr<std::unique_ptr<AdPaymentsRule>> AdPaymentsRule::Create(
    const txflag::v1::Rule& config, internal::Money money) {
  if (!config.has_ad_payments()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", config.id(), "' is not an ad_payments rule"));
  }
  const auto& c = config.ad_payments();
  if (c.window_days() < 1 || c.min_payments() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rule '", config.id(), "': window_days and min_payments must be >= 1"));
  }
  std::unique_ptr<AdPaymentsRule> rule(
      new AdPaymentsRule(config, std::move(money)));
  TXFLAG_ASSIGN_OR_RETURN(rule->max_amount_,
                          rule->money().ToMinor(c.max_amount()));
  return rule;
}

bool AdPaymentsRule::Accepts(const txflag::v1::PaymentView& payment,
                             Leg* leg) const {
  if (leg->direction != txflag::v1::OUTGOING) return false;
  if (max_amount_ > 0 && leg->amount > max_amount_) return false;
  const bool watchlisted = (!payment.creditor_account.empty() &&
                            accounts_.contains(Av(payment.creditor_account))) ||
                           names_.Matches(payment.creditor_name);
  if (watchlisted) {
    leg->flags |= kWatchlistFlag;
  } else {
    leg->flags &= static_cast<uint8_t>(~kWatchlistFlag);
  }
  return watchlisted || mccs_.contains(payment.mcc);
}

std::optional<Hit> AdPaymentsRule::Evaluate(const Leg& leg,
                                            const Window& window) const {
  const size_t payments = window.size();
  if (payments < c_.min_payments()) return std::nullopt;
  size_t watchlisted = 0;
  for (const Leg& l : window.legs()) {
    if (l.flags & kWatchlistFlag) ++watchlisted;
  }
  const uint32_t min_watchlisted =
      c_.require_watchlist() ? c_.min_watchlist_payments() : 0;
  if (watchlisted < min_watchlisted) return std::nullopt;

  Hit hit;
  hit.legs.reserve(payments);
  for (const Leg& l : window.legs()) hit.legs.push_back(&l);
  hit.aggregates.push_back(
      MakeAggregate("ad_payments", payments, c_.min_payments(), "count"));
  hit.aggregates.push_back(MakeAggregate("watchlisted_payments", watchlisted,
                                         min_watchlisted, "count"));
  hit.aggregates.push_back(TotalAggregate("total", window.sum()));
  // Many ad payments of which few go to watchlisted sites (a shop with
  // online ads and the odd classified ad) are a weak hit: the strength is
  // capped by how far the watchlisted payments went past their threshold.
  double strength = static_cast<double>(payments) / c_.min_payments();
  if (min_watchlisted > 0) {
    strength =
        std::min(strength, static_cast<double>(watchlisted) / min_watchlisted);
  }
  hit.strength = std::max(1.0, strength);
  std::string cap;
  if (max_amount_ > 0) {
    cap = absl::StrCat(" (each at most ", money().Format(max_amount_), ")");
  }
  hit.explanation = absl::StrCat(
      "Paid ", internal::Plural(payments, "ad payment", "ad payments"), cap,
      " within ", internal::Plural(window_days(), "day", "days"), ", ",
      money().Format(window.sum()), " in all; ", watchlisted, " of them to ",
      watchlisted == 1 ? "a payee" : "payees",
      " on the sex-ad / escort site watchlist.");
  return hit;
}

}  // namespace txflag::rules
