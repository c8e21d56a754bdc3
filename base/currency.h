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
// O(1): a table lookup.
std::optional<int> CurrencyExponent(std::string_view code);

// Number of possible three-letter codes, and the dense index of `code` in
// [0, kCurrencyCodes) for three upper-case ASCII letters, -1 otherwise. Lets
// callers keep per-currency data in a flat array.
inline constexpr int kCurrencyCodes = 26 * 26 * 26;
inline int CurrencyIndex(std::string_view code) {
  if (code.size() != 3) return -1;
  int index = 0;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return -1;
    index = index * 26 + (c - 'A');
  }
  return index;
}

}  // namespace txflag

#endif  // TXFLAG_BASE_CURRENCY_H_
