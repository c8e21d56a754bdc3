#include "base/currency.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace txflag {
namespace {

// ISO 4217 active codes (2024 list) whose exponent is not 2, and the codes
// with exponent 2; anything else is unknown.
constexpr std::array<std::pair<std::string_view, int>, 22> kNonTwo = {{
    {"BHD", 3}, {"BIF", 0}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"IQD", 3},
    {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0}, {"KWD", 3},
    {"LYD", 3}, {"OMR", 3}, {"PYG", 0}, {"RWF", 0}, {"TND", 3}, {"UGX", 0},
    {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XBT", 8},
}};

constexpr std::string_view kTwo[] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM",
    "BBD", "BDT", "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN",
    "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK",
    "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
    "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR",
    "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
    "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS",
    "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW", "ZWL",
};

}  // namespace

namespace {

// Exponent per CurrencyIndex, -1 for unknown codes. Built once.
const std::array<int8_t, kCurrencyCodes>& ExponentTable() {
  static const auto* table = [] {
    auto* t = new std::array<int8_t, kCurrencyCodes>;
    t->fill(-1);
    for (std::string_view code : kTwo) (*t)[CurrencyIndex(code)] = 2;
    for (const auto& [code, e] : kNonTwo) {
      (*t)[CurrencyIndex(code)] = static_cast<int8_t>(e);
    }
    return t;
  }();
  return *table;
}

}  // namespace

std::optional<int> CurrencyExponent(std::string_view code) {
  const int index = CurrencyIndex(code);
  if (index < 0) return std::nullopt;
  const int8_t e = ExponentTable()[index];
  if (e < 0) return std::nullopt;
  return e;
}

}  // namespace txflag
