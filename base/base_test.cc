#include <algorithm>

#include "base/currency.h"
#include "base/decimal.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag {
namespace {

TEST(Decimal, ParsesExactMinorUnits) {
  EXPECT_EQ(*ParseDecimalMinor("1250.00", 2, ExtraDigits::kReject), 125000);
  EXPECT_EQ(*ParseDecimalMinor("12.5", 2, ExtraDigits::kReject), 1250);
  EXPECT_EQ(*ParseDecimalMinor("7", 2, ExtraDigits::kReject), 700);
  EXPECT_EQ(*ParseDecimalMinor("0.07", 2, ExtraDigits::kReject), 7);
  EXPECT_EQ(*ParseDecimalMinor("100", 0, ExtraDigits::kReject), 100);
  EXPECT_EQ(*ParseDecimalMinor("1.500", 2, ExtraDigits::kReject), 150);
}

TEST(Decimal, RejectsBadAmountsWithInvalidArgument) {
  for (const char* bad : {"", "-5.00", "abc", "1,5", "1.", ".", "1.2.3",
                          "99999999999999999999"}) {
    auto r = ParseDecimalMinor(bad, 2, ExtraDigits::kReject);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseDecimalMinor("1.234", 2, ExtraDigits::kReject).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Decimal, RoundsHalfEvenWhenAsked) {
  EXPECT_EQ(*ParseDecimalMinor("94401.67", 0, ExtraDigits::kRoundHalfEven),
            94402);
  EXPECT_EQ(*ParseDecimalMinor("2.5", 0, ExtraDigits::kRoundHalfEven), 2);
  EXPECT_EQ(*ParseDecimalMinor("3.5", 0, ExtraDigits::kRoundHalfEven), 4);
  EXPECT_EQ(*ParseDecimalMinor("2.51", 0, ExtraDigits::kRoundHalfEven), 3);
}

TEST(Decimal, FormatsMinorUnits) {
  EXPECT_EQ(FormatMinor(125000, 2), "1250.00");
  EXPECT_EQ(FormatMinor(7, 2), "0.07");
  EXPECT_EQ(FormatMinor(5, 0), "5");
  EXPECT_EQ(FormatMinor(-150, 2), "-1.50");
}

TEST(Time, ParsesAndFormatsUtc) {
  EXPECT_EQ(*ParseUtcTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseUtcTimestamp("2024-02-29T12:30:15Z"), 1709209815);
  EXPECT_EQ(FormatUtcTimestamp(1709209815), "2024-02-29T12:30:15Z");
  for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{4102444799}}) {
    EXPECT_EQ(*ParseUtcTimestamp(FormatUtcTimestamp(t)), t);
  }
}

TEST(Time, RejectsMalformedTimestamps) {
  for (const char* bad :
       {"2023-02-30T00:00:00Z", "2023-13-01T00:00:00Z", "2023-01-01 00:00:00",
        "2023-01-01T24:00:00Z", "2023-01-01T00:00:00+01:00", "yesterday", ""}) {
    EXPECT_EQ(ParseUtcTimestamp(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(Hash, Sha256MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(Hash, Fnv1aIsStable) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Hex64(0xaf63dc4c8601ec8cULL), "af63dc4c8601ec8c");
}

TEST(Currency, KnowsExponents) {
  EXPECT_EQ(CurrencyExponent("DKK"), 2);
  EXPECT_EQ(CurrencyExponent("EUR"), 2);
  EXPECT_EQ(CurrencyExponent("JPY"), 0);
  EXPECT_EQ(CurrencyExponent("XBT"), 8);
  EXPECT_EQ(CurrencyExponent("ZZZ"), std::nullopt);
  EXPECT_EQ(CurrencyExponent("dkk"), std::nullopt);
}

TEST(Strings, WithThousandsGroupsDigits) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1234567), "1,234,567");
  EXPECT_EQ(WithThousands(-1000), "-1,000");
  EXPECT_EQ(WithThousands(INT64_MIN), "-9,223,372,036,854,775,808");
}

TEST(Strings, IsValidUtf8AtEveryPositionOfALongText) {
  // The ASCII fast path reads eight bytes at a time: a bad or multi-byte
  // sequence must be judged wherever it falls in or after such a block.
  const std::string ascii(20, 'a');
  for (size_t at = 0; at <= ascii.size(); ++at) {
    auto with = [&](std::string_view piece) {
      return ascii.substr(0, at) + std::string(piece) + ascii.substr(at);
    };
    EXPECT_TRUE(IsValidUtf8(with("\xC3\xB8"))) << at;          // ø
    EXPECT_TRUE(IsValidUtf8(with("\xF0\x9F\x92\xB8"))) << at;  // 4 bytes
    EXPECT_FALSE(IsValidUtf8(with("\x80"))) << at;          // lone continuation
    EXPECT_FALSE(IsValidUtf8(with("\xC0\xAF"))) << at;      // overlong
    EXPECT_FALSE(IsValidUtf8(with("\xED\xA0\x80"))) << at;  // surrogate
    EXPECT_FALSE(IsValidUtf8(ascii.substr(0, at) + "\xC3")) << at;  // cut
  }
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8(ascii));
}

TEST(Log, FormatsLogfmtQuotingWhatNeedsIt) {
  EXPECT_EQ(FormatLogEvent(LogLevel::kWarning, "broker_unavailable",
                           {{"partition", "3"},
                            {"reason", "all brokers \"down\" = bad"},
                            {"empty", ""}}),
            "level=warning event=broker_unavailable partition=3 "
            "reason=\"all brokers \\\"down\\\" = bad\" empty=\"\"");
}

}  // namespace
}  // namespace txflag
