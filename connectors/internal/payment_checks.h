// File: connectors/internal/payment_checks.h
//
// The semantic checks every file format applies to a payment once its fields
// are parsed, written once and shared by the canonical CSV, JSON Lines and
// AMLworld readers:
//
//   if (std::string reason = CheckPayment(payment); !reason.empty()) {
//     ... reject the record with `reason` ...
//   }
//
// Also the small field-level helpers (UTF-8, country codes, channel names)
// the readers need before a Payment exists.
#ifndef TXFLAG_CONNECTORS_INTERNAL_PAYMENT_CHECKS_H_
#define TXFLAG_CONNECTORS_INTERNAL_PAYMENT_CHECKS_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "proto/payment.pb.h"
#include "proto/payment_view.h"

namespace txflag::connectors::internal {

// Returns "" when `payment` is acceptable, else one sentence naming the field
// and what is wrong ("debtor_country 'dk' is not two upper-case letters ...").
// Checks: id non-empty; timestamp set; countries empty or two upper-case
// letters; currency known (txflag::CurrencyExponent); amount_minor positive;
// channel set; not both accounts empty; an empty account only with CASH; mcc
// at most 4 digits. Allocates only when it rejects.
// Takes a Payment message as well (it converts to a view).
std::string CheckPayment(const txflag::v1::PaymentView& payment);

// True when `s` is valid UTF-8 (base/strings.h).
using txflag::IsValidUtf8;

// True for "" and for two upper-case ASCII letters.
inline bool IsCountryCode(std::string_view s) {
  return s.empty() || (s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' &&
                       s[1] >= 'A' && s[1] <= 'Z');
}

// The channel named `name` as the canonical CSV spells it (TRANSFER, CARD,
// MOBILE, CASH, REMITTANCE, DIRECT_DEBIT), or nullopt.
std::optional<txflag::v1::Payment::Channel> ParseChannelName(
    std::string_view name);

// Names accepted by ParseChannelName, for messages.
inline constexpr std::string_view kChannelNames =
    "TRANSFER, CARD, MOBILE, CASH, REMITTANCE, DIRECT_DEBIT";

}  // namespace txflag::connectors::internal

#endif  // TXFLAG_CONNECTORS_INTERNAL_PAYMENT_CHECKS_H_
