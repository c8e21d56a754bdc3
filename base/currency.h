// File: base/currency.h
//
// ISO 4217 minor-unit exponents (DKK 2, JPY 0, KWD 3, ...). txflag keeps every
// amount as an integer count of minor units plus its currency code, so the
// exponent says where the decimal point is.
#ifndef TXFLAG_BASE_CURRENCY_H_
#define TXFLAG_BASE_CURRENCY_H_

#include <optional>
#include <string_view>

namespace txflag {

// Minor-unit exponent of ISO 4217 code `code` (upper case, e.g. "EUR" -> 2),
// or nullopt for an unknown code. Besides ISO 4217 it knows "XBT" (bitcoin,
// 8 decimals), which AMLworld uses.
std::optional<int> CurrencyExponent(std::string_view code);

}  // namespace txflag

#endif  // TXFLAG_BASE_CURRENCY_H_
