#include "base/decimal.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace txflag {

absl::StatusOr<int64_t> ParseDecimalMinor(std::string_view text, int exponent,
                                          ExtraDigits extra) {
  if (text.empty()) return absl::InvalidArgumentError("empty amount");
  if (text[0] == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("negative amount '", Av(text), "'"));
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 10;
  int64_t value = 0;
  size_t i = 0;
  bool any_digit = false;
  for (; i < text.size() && text[i] != '.'; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(
          absl::StrCat("amount '", Av(text), "' is not a decimal number"));
    }
    if (value > kMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("amount '", Av(text), "' is too large"));
    }
    value = value * 10 + (c - '0');
    any_digit = true;
  }
  int frac_digits = 0;
  bool round_up = false;
  bool sticky = false;  // non-zero digits after the rounding digit
  int round_digit = -1;
  if (i < text.size()) {  // at '.'
    ++i;
    if (i == text.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("amount '", Av(text), "' ends with '.'"));
    }
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (c < '0' || c > '9') {
        return absl::InvalidArgumentError(
            absl::StrCat("amount '", Av(text), "' is not a decimal number"));
      }
      any_digit = true;
      if (frac_digits < exponent) {
        if (value > kMax) {
          return absl::InvalidArgumentError(
              absl::StrCat("amount '", Av(text), "' is too large"));
        }
        value = value * 10 + (c - '0');
        ++frac_digits;
      } else if (extra == ExtraDigits::kReject) {
        if (c != '0') {
          return absl::InvalidArgumentError(
              absl::StrCat("amount '", Av(text), "' has more than ", exponent,
                           " decimals for its currency"));
        }
      } else if (round_digit < 0) {
        round_digit = c - '0';
      } else if (c != '0') {
        sticky = true;
      }
    }
  }
  if (!any_digit) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount '", Av(text), "' is not a decimal number"));
  }
  for (; frac_digits < exponent; ++frac_digits) {
    if (value > kMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("amount '", Av(text), "' is too large"));
    }
    value *= 10;
  }
  if (round_digit > 5 || (round_digit == 5 && (sticky || (value & 1)))) {
    round_up = true;
  }
  if (round_up) ++value;
  return value;
}

std::string FormatMinor(int64_t minor, int exponent) {
  bool negative = minor < 0;
  uint64_t v = negative ? 0 - static_cast<uint64_t>(minor)
                        : static_cast<uint64_t>(minor);
  std::string digits = std::to_string(v);
  if (exponent > 0) {
    if (digits.size() <= static_cast<size_t>(exponent)) {
      digits.insert(0, exponent + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - exponent, ".");
  }
  if (negative) digits.insert(0, "-");
  return digits;
}

}  // namespace txflag
