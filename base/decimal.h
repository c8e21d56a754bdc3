// File: base/decimal.h
//
// Exact decimal amounts: "1250.00" in a currency with exponent 2 is 125000
// minor units. No floating point on the way.
#ifndef TXFLAG_BASE_DECIMAL_H_
#define TXFLAG_BASE_DECIMAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace txflag {

enum class ExtraDigits {
  kReject,        // more fractional digits than `exponent` allows is an error
  kRoundHalfEven  // round to the minor unit (for sources such as AMLworld)
};

// Parses a non-negative decimal with '.' as separator ("12", "12.5", "0.07")
// into minor units of a currency with `exponent` decimals. Returns
// InvalidArgument naming the problem for an empty, signed, non-numeric or
// overflowing value, and for extra digits under ExtraDigits::kReject.
absl::StatusOr<int64_t> ParseDecimalMinor(std::string_view text, int exponent,
                                          ExtraDigits extra);

// Formats `minor` units with `exponent` decimals: (125000, 2) -> "1250.00".
std::string FormatMinor(int64_t minor, int exponent);

}  // namespace txflag

#endif  // TXFLAG_BASE_DECIMAL_H_
