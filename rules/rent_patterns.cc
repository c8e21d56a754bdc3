#include "rules/rent_patterns.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace txflag::rules {

using txflag::v1::Payment;
using Scenario = txflag::v1::RentPatternsRule::Scenario;

const std::vector<std::string>& RentPatternsRule::DefaultKeywords() {
  static const auto* const kKeywords =
      new std::vector<std::string>{"husleje",  "leje",    "rent", "room",
                                   "vaerelse", "værelse", "logi", "bolig"};
  return *kKeywords;
}

RentPatternsRule::RentPatternsRule(const txflag::v1::Rule& config,
                                   internal::Money money)
    : RuleBase(config, config.rent_patterns().window_days(), std::move(money)),
      c_(config.rent_patterns()),
      keywords_(c_.reference_keyword().empty()
                    ? DefaultKeywords()
                    : std::vector<std::string>(c_.reference_keyword().begin(),
                                               c_.reference_keyword().end())) {
  if (c_.channel().empty()) {
    channels_ = (1u << Payment::TRANSFER) | (1u << Payment::MOBILE) |
                (1u << Payment::DIRECT_DEBIT);
  } else {
    for (int ch : c_.channel()) channels_ |= 1u << ch;
  }
}

absl::StatusOr<std::unique_ptr<RentPatternsRule>> RentPatternsRule::Create(
    const txflag::v1::Rule& config, internal::Money money) {
  if (!config.has_rent_patterns()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", config.id(), "' is not a rent_patterns rule"));
  }
  const auto& c = config.rent_patterns();
  if (c.window_days() < 1 || c.min_payments_per_landlord() < 1 ||
      c.min_landlords() < 1 || c.min_payers() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rule '", config.id(),
        "': window_days, min_payments_per_landlord, min_landlords and "
        "min_payers must be >= 1"));
  }
  std::unique_ptr<RentPatternsRule> rule(
      new RentPatternsRule(config, std::move(money)));
  if (rule->keywords_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", config.id(), "': no usable reference_keyword"));
  }
  TXFLAG_ASSIGN_OR_RETURN(rule->min_total_,
                          rule->money().ToMinor(c.min_total_per_landlord()));
  TXFLAG_ASSIGN_OR_RETURN(rule->min_landlord_total_,
                          rule->money().ToMinor(c.min_landlord_total()));
  return rule;
}

bool RentPatternsRule::Accepts(const txflag::v1::PaymentView& payment,
                               Leg* leg) const {
  const auto want = c_.scenario() == txflag::v1::RentPatternsRule::MANY_PAYERS
                        ? txflag::v1::INCOMING
                        : txflag::v1::OUTGOING;
  return leg->direction == want &&
         internal::InChannelMask(channels_, leg->channel) &&
         keywords_.Matches(payment.reference);
}

std::optional<Hit> RentPatternsRule::Evaluate(const Leg& leg,
                                              const Window& window) const {
  switch (c_.scenario()) {
    case txflag::v1::RentPatternsRule::HIGH_RATE:
      return EvaluateHighRate(leg, window);
    case txflag::v1::RentPatternsRule::SEVERAL_LANDLORDS:
      return EvaluateSeveralLandlords(window);
    case txflag::v1::RentPatternsRule::MANY_PAYERS:
      return EvaluateManyPayers(window);
  }
  return std::nullopt;
}

std::optional<Hit> RentPatternsRule::EvaluateHighRate(
    const Leg& leg, const Window& window) const {
  const Window::CounterpartyStats* stats =
      window.counterparty(leg.counterparty);
  if (stats == nullptr || stats->count < c_.min_payments_per_landlord() ||
      stats->sum < min_total_) {
    return std::nullopt;
  }
  Hit hit;
  for (const Leg& l : window.legs()) {
    if (l.counterparty == leg.counterparty) hit.legs.push_back(&l);
  }
  hit.aggregates.push_back(MakeAggregate("payments_to_landlord", stats->count,
                                         c_.min_payments_per_landlord(),
                                         "count"));
  hit.aggregates.push_back(
      MakeAggregate("total_to_landlord", money().ToMajor(stats->sum),
                    money().ToMajor(min_total_), money().code));
  hit.strength = std::max(
      1.0,
      std::min(
          static_cast<double>(stats->count) / c_.min_payments_per_landlord(),
          min_total_ > 0 ? static_cast<double>(stats->sum) / min_total_
                         : static_cast<double>(stats->count) /
                               c_.min_payments_per_landlord()));
  hit.explanation = absl::StrCat(
      "Paid rent-like payments ", stats->count, " times in ",
      internal::Plural(window_days(), "day", "days"), " to one landlord, ",
      money().Format(stats->sum),
      " in all: daily or weekly rent far above a normal room rent.");
  return hit;
}

std::optional<Hit> RentPatternsRule::EvaluateSeveralLandlords(
    const Window& window) const {
  if (window.distinct_counterparties() < c_.min_landlords()) {
    return std::nullopt;
  }
  const size_t landlords =
      window.CountCounterpartiesAtLeast(1, min_landlord_total_);
  if (landlords < c_.min_landlords()) return std::nullopt;
  Hit hit;
  hit.legs.reserve(window.size());
  for (const Leg& l : window.legs()) {
    const Window::CounterpartyStats* stats =
        window.counterparty(l.counterparty);
    if (stats != nullptr && stats->sum >= min_landlord_total_) {
      hit.legs.push_back(&l);
    }
  }
  hit.aggregates.push_back(
      MakeAggregate("landlords", landlords, c_.min_landlords(), "count"));
  hit.aggregates.push_back(MakeAggregate(
      "min_paid_per_landlord", money().ToMajor(min_landlord_total_),
      money().ToMajor(min_landlord_total_), money().code));
  int64_t total = 0;
  for (const Leg* l : hit.legs) total += l->amount;
  hit.aggregates.push_back(
      MakeAggregate("rent_payments", hit.legs.size(), 0, "count"));
  hit.aggregates.push_back(TotalAggregate("total", total));
  hit.strength =
      std::max(1.0, static_cast<double>(landlords) / c_.min_landlords());
  hit.explanation = absl::StrCat(
      "Paid rent-like payments to ", landlords,
      " distinct landlords, at least ", money().Format(min_landlord_total_),
      " to each, within ", internal::Plural(window_days(), "day", "days"), " (",
      internal::Plural(hit.legs.size(), "payment", "payments"), ", ",
      money().Format(total),
      " in all): one payer renting several addresses at once.");
  return hit;
}

std::optional<Hit> RentPatternsRule::EvaluateManyPayers(
    const Window& window) const {
  const uint32_t min_count = c_.min_payments_per_landlord();
  const size_t payers =
      window.CountCounterpartiesAtLeast(min_count, min_total_);
  if (payers < c_.min_payers()) return std::nullopt;
  Hit hit;
  int64_t total = 0;
  for (const Leg& l : window.legs()) {
    const Window::CounterpartyStats* s = window.counterparty(l.counterparty);
    if (s != nullptr && s->count >= min_count && s->sum >= min_total_) {
      hit.legs.push_back(&l);
      total += l.amount;
    }
  }
  hit.aggregates.push_back(
      MakeAggregate("high_rate_payers", payers, c_.min_payers(), "count"));
  hit.aggregates.push_back(
      MakeAggregate("payers", window.distinct_counterparties(), 0, "count"));
  hit.aggregates.push_back(
      TotalAggregate("total_from_high_rate_payers", total));
  hit.strength = std::max(1.0, static_cast<double>(payers) / c_.min_payers());
  hit.explanation = absl::StrCat(
      "Received high-rate rent from ", payers, " distinct payers in ",
      internal::Plural(window_days(), "day", "days"), " (each at least ",
      min_count, " rent-like payments and ", money().Format(min_total_), "), ",
      money().Format(total),
      " in all: one landlord letting rooms at daily or weekly rates to "
      "several people.");
  return hit;
}

}  // namespace txflag::rules
