#include "connectors/internal/payment_checks.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "base/currency.h"
#include "base/strings.h"

namespace txflag::connectors::internal {

using txflag::v1::Payment;

namespace {

std::string CountryReason(std::string_view field, std::string_view value) {
  return absl::StrCat(Av(field), " '", Av(value),
                      "' is not empty or two upper-case letters (ISO 3166-1 "
                      "alpha-2, e.g. DK)");
}

}  // namespace

std::string CheckPayment(const txflag::v1::PaymentView& p) {
  if (p.id.empty()) return "id is empty";
  if (!p.has_timestamp) return "timestamp is missing";
  if (!IsCountryCode(p.debtor_country)) {
    return CountryReason("debtor_country", p.debtor_country);
  }
  if (!IsCountryCode(p.creditor_country)) {
    return CountryReason("creditor_country", p.creditor_country);
  }
  if (!CurrencyExponent(p.currency).has_value()) {
    return absl::StrCat("currency '", Av(p.currency),
                        "' is not a known ISO 4217 code");
  }
  if (p.amount_minor <= 0) {
    return absl::StrCat("amount must be positive, got ", p.amount_minor,
                        " minor units");
  }
  if (p.channel == Payment::CHANNEL_UNSPECIFIED ||
      !Payment::Channel_IsValid(p.channel)) {
    return absl::StrCat("channel is missing: expected one of ",
                        Av(kChannelNames));
  }
  const bool no_debtor = p.debtor_account.empty();
  const bool no_creditor = p.creditor_account.empty();
  if (no_debtor && no_creditor) {
    return "debtor_account and creditor_account are both empty";
  }
  if ((no_debtor || no_creditor) && p.channel != Payment::CASH) {
    return absl::StrCat(
        no_debtor ? "debtor_account" : "creditor_account",
        " is empty, which only a CASH payment may be (channel is ",
        Payment::Channel_Name(static_cast<Payment::Channel>(p.channel)), ")");
  }
  if (p.mcc > 9999) {
    return absl::StrCat("mcc ", p.mcc,
                        " is not a 4-digit merchant category code");
  }
  return std::string();
}

std::optional<Payment::Channel> ParseChannelName(std::string_view name) {
  switch (name.size()) {
    case 4:
      if (name == "CARD") return Payment::CARD;
      if (name == "CASH") return Payment::CASH;
      break;
    case 6:
      if (name == "MOBILE") return Payment::MOBILE;
      break;
    case 8:
      if (name == "TRANSFER") return Payment::TRANSFER;
      break;
    case 10:
      if (name == "REMITTANCE") return Payment::REMITTANCE;
      break;
    case 12:
      if (name == "DIRECT_DEBIT") return Payment::DIRECT_DEBIT;
      break;
  }
  return std::nullopt;
}

}  // namespace txflag::connectors::internal
