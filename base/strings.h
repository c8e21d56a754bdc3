// File: base/strings.h
//
// Debian 12 builds Abseil with ABSL_OPTION_USE_STD_STRING_VIEW=0, so
// absl::string_view is not std::string_view and absl::StrCat() does not take a
// std::string_view. txflag's own APIs use std::string_view; convert at the
// Abseil boundary with Av():
//
//   absl::StrCat("amount '", Av(text), "' is negative")
#ifndef TXFLAG_BASE_STRINGS_H_
#define TXFLAG_BASE_STRINGS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace txflag {

inline absl::string_view Av(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view Sv(absl::string_view s) { return {s.data(), s.size()}; }

// `v` in decimal with ',' between thousands: 1234567 -> "1,234,567".
// True when `s` is valid UTF-8 (no overlongs, surrogates or values above
// U+10FFFF), the check protobuf applies to proto3 string fields. Fast for
// ASCII.
bool IsValidUtf8(std::string_view s);

std::string WithThousands(int64_t v);

// `s` as a JSON string literal, quotes included ("a\"b" for a"b); control
// characters as \uXXXX. Bytes >= 0x80 pass through (UTF-8 stays UTF-8).
std::string JsonQuote(std::string_view s);

}  // namespace txflag

#endif  // TXFLAG_BASE_STRINGS_H_
