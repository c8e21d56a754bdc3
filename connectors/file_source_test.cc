#include "connectors/file_source.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/currency.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::connectors {
namespace {

using engine::SourceRecord;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using txflag::v1::Payment;

constexpr char kHeader[] =
    "id,timestamp,debtor_account,debtor_name,debtor_country,creditor_account,"
    "creditor_name,creditor_country,amount,currency,channel,mcc,reference";
constexpr char kAmlHeader[] =
    "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving "
    "Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering";
constexpr char kGood[] =
    "p1,2024-03-01T21:15:00Z,DK5000400440116243,Anna Jensen,DK,"
    "DK3000400440112222,Lars Holm,DK,1250.50,DKK,TRANSFER,,husleje marts";

std::string TempPath(std::string_view name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = absl::StrCat(info->test_suite_name(), "_", info->name());
  std::replace(test.begin(), test.end(), '/', '_');  // parameterised names
  return absl::StrCat(::testing::TempDir(), "/txflag_", test, "_", Av(name));
}

std::string WriteFile(std::string_view name, std::string_view content) {
  std::string path = TempPath(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), content.size());
  return path;
}

// A canonical row from its 13 fields, joined verbatim (no quoting).
std::string Row(std::vector<std::string> f) { return absl::StrJoin(f, ","); }

std::vector<std::string> GoodFields() { return absl::StrSplit(kGood, ','); }

std::vector<SourceRecord> ReadRest(engine::PaymentSource& source) {
  std::vector<SourceRecord> out;
  while (true) {
    SourceRecord record;
    absl::StatusOr<bool> got = source.Next(&record);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || !*got) break;
    out.push_back(std::move(record));
  }
  return out;
}

std::vector<SourceRecord> ReadAll(const std::string& path,
                                  FileFormat format = FileFormat::kAuto,
                                  FileSourceOptions options = {}) {
  auto source = OpenFileSource(path, format, options);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return {};
  return ReadRest(**source);
}

// Same record, field by field (reusing one SourceRecord must not leak state).
void ExpectSame(const std::vector<SourceRecord>& a,
                const std::vector<SourceRecord>& b, std::string_view what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(absl::StrCat(Av(what), " record ", i));
    EXPECT_EQ(a[i].kind, b[i].kind);
    EXPECT_EQ(a[i].location, b[i].location);
    EXPECT_EQ(a[i].reason, b[i].reason);
    EXPECT_EQ(a[i].raw, b[i].raw);
    EXPECT_EQ(a[i].label, b[i].label);
    if (a[i].kind == SourceRecord::Kind::kPayment) {
      EXPECT_EQ(a[i].payment.DebugString(), b[i].payment.DebugString());
    }
  }
}

TEST(FileFormat, ParsesAndNamesEveryFormat) {
  for (FileFormat f : {FileFormat::kAuto, FileFormat::kCanonicalCsv,
                       FileFormat::kJsonl, FileFormat::kAmlworld}) {
    absl::StatusOr<FileFormat> parsed = ParseFileFormat(FileFormatName(f));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, f);
  }
  EXPECT_EQ(ParseFileFormat("xml").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CanonicalCsv, ReadsAGoodRow) {
  std::string path = WriteFile(
      "p.csv", absl::StrCat(kHeader, "\n", kGood, "\n",
                            "p2,2024-03-02T00:00:00Z,,,,DK1,,,100,JPY,CASH,,\n",
                            "p3,2024-03-02T00:00:00Z,DK9,,SE,DK1,,,7.5,EUR,"
                            "CARD,5813,bar\n"));
  auto source = FileSource::Open(path, FileFormat::kAuto);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->format(), FileFormat::kCanonicalCsv);
  std::vector<SourceRecord> r = ReadRest(**source);
  ASSERT_EQ(r.size(), 3u);
  for (const SourceRecord& rec : r) {
    EXPECT_EQ(rec.kind, SourceRecord::Kind::kPayment) << rec.reason;
    EXPECT_FALSE(rec.label.has_value());
  }
  const Payment& p = r[0].payment;
  EXPECT_EQ(r[0].location, absl::StrCat(path, ":2"));
  EXPECT_EQ(p.id(), "p1");
  EXPECT_EQ(p.timestamp().seconds(),
            *ParseUtcTimestamp("2024-03-01T21:15:00Z"));
  EXPECT_EQ(p.debtor_account(), "DK5000400440116243");
  EXPECT_EQ(p.debtor_name(), "Anna Jensen");
  EXPECT_EQ(p.debtor_country(), "DK");
  EXPECT_EQ(p.creditor_account(), "DK3000400440112222");
  EXPECT_EQ(p.creditor_name(), "Lars Holm");
  EXPECT_EQ(p.amount_minor(), 125050);
  EXPECT_EQ(p.currency(), "DKK");
  EXPECT_EQ(p.channel(), Payment::TRANSFER);
  EXPECT_EQ(p.mcc(), 0u);
  EXPECT_EQ(p.reference(), "husleje marts");
  EXPECT_EQ(r[1].payment.amount_minor(), 100);  // JPY has no decimals
  EXPECT_EQ(r[1].payment.channel(), Payment::CASH);
  EXPECT_EQ(r[1].location, absl::StrCat(path, ":3"));
  EXPECT_EQ(r[2].payment.amount_minor(), 750);
  EXPECT_EQ(r[2].payment.mcc(), 5813u);
  EXPECT_EQ(r[2].payment.channel(), Payment::CARD);
  EXPECT_DOUBLE_EQ((*source)->Progress(), 1.0);
}

struct BadRow {
  std::string name;
  std::string row;
  std::string reason_mentions;
};

// Each row differs from kGood in one way.
std::vector<BadRow> BadRows() {
  auto with = [](int field, std::string value) {
    std::vector<std::string> f = GoodFields();
    f[field] = std::move(value);
    return Row(f);
  };
  auto with2 = [](int f1, std::string v1, int f2, std::string v2) {
    std::vector<std::string> f = GoodFields();
    f[f1] = std::move(v1);
    f[f2] = std::move(v2);
    return Row(f);
  };
  std::vector<std::string> twelve = GoodFields();
  twelve.pop_back();
  std::vector<std::string> fourteen = GoodFields();
  fourteen.push_back("extra");
  return {
      {"TooFewFields", Row(twelve), "field count"},
      {"TooManyFields", Row(fourteen), "field count"},
      {"QuoteInUnquotedField", with(3, "Anna \"AJ\" Jensen"), "debtor_name"},
      {"TextAfterClosingQuote", with(6, "\"Lars\" Holm"), "creditor_name"},
      {"InvalidUtf8", with(3, "Anna \xC3\x28 Jensen"), "debtor_name"},
      {"InvalidUtf8Overlong", with(12, "x\xC0\xAFy"), "reference"},
      {"EmptyId", with(0, ""), "id"},
      {"TimestampWithSpace", with(1, "2024-03-01 21:15:00Z"), "timestamp"},
      {"TimestampWithoutZ", with(1, "2024-03-01T21:15:00"), "timestamp"},
      {"TimestampImpossibleDate", with(1, "2023-02-30T10:00:00Z"), "timestamp"},
      {"EmptyTimestamp", with(1, ""), "timestamp"},
      {"LowerCaseDebtorCountry", with(4, "dk"), "debtor_country"},
      {"ThreeLetterCreditorCountry", with(7, "DNK"), "creditor_country"},
      {"UnknownCurrency", with(9, "XYZ"), "currency"},
      {"LowerCaseCurrency", with(9, "dkk"), "currency"},
      {"TooManyDecimals", with(8, "12.505"), "amount"},
      {"DecimalsInJpy", with2(8, "100.5", 9, "JPY"), "amount"},
      {"ZeroAmount", with(8, "0.00"), "amount"},
      {"NegativeAmount", with(8, "-5.00"), "amount"},
      {"AmountNotANumber", with(8, "12a"), "amount"},
      {"EmptyAmount", with(8, ""), "amount"},
      {"UnknownChannel", with(10, "WIRE"), "channel"},
      {"LowerCaseChannel", with(10, "transfer"), "channel"},
      {"UnspecifiedChannel", with(10, "CHANNEL_UNSPECIFIED"), "channel"},
      {"BothAccountsEmpty", with2(2, "", 5, ""),
       "debtor_account and creditor_account"},
      {"BothAccountsEmptyEvenForCash",
       [] {
         std::vector<std::string> f = GoodFields();
         f[2] = "";
         f[5] = "";
         f[10] = "CASH";
         return Row(f);
       }(),
       "debtor_account and creditor_account"},
      {"EmptyDebtorAccountNotCash", with(2, ""), "debtor_account"},
      {"EmptyCreditorAccountNotCash", with2(5, "", 10, "CARD"),
       "creditor_account"},
      {"ShortMcc", with(11, "581"), "mcc"},
      {"LongMcc", with(11, "58130"), "mcc"},
      {"NonDigitMcc", with(11, "58a3"), "mcc"},
  };
}

class CanonicalCsvReject : public ::testing::TestWithParam<BadRow> {};

TEST_P(CanonicalCsvReject, RejectsWithFieldAndLocationAndReadsOn) {
  const BadRow& bad = GetParam();
  std::string path = WriteFile(
      "bad.csv",
      absl::StrCat(kHeader, "\n", kGood, "\n", bad.row, "\n", kGood, "\n"));
  std::vector<SourceRecord> r = ReadAll(path, FileFormat::kCanonicalCsv);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].kind, SourceRecord::Kind::kPayment) << r[0].reason;
  EXPECT_EQ(r[1].kind, SourceRecord::Kind::kReject);
  EXPECT_EQ(r[1].location, absl::StrCat(path, ":3"));
  EXPECT_THAT(r[1].reason, HasSubstr(bad.reason_mentions));
  EXPECT_EQ(r[1].raw, bad.row);
  EXPECT_EQ(r[2].kind, SourceRecord::Kind::kPayment) << r[2].reason;
  EXPECT_EQ(r[2].location, absl::StrCat(path, ":4"));
}

INSTANTIATE_TEST_SUITE_P(Rows, CanonicalCsvReject,
                         ::testing::ValuesIn(BadRows()),
                         [](const ::testing::TestParamInfo<BadRow>& info) {
                           return info.param.name;
                         });

TEST(CanonicalCsv, AcceptsCashWithOneAccountAndMccOnAnyChannel) {
  std::vector<std::string> deposit = GoodFields();
  deposit[2] = "";
  deposit[10] = "CASH";
  std::vector<std::string> withdrawal = GoodFields();
  withdrawal[5] = "";
  withdrawal[10] = "CASH";
  std::vector<std::string> mcc = GoodFields();
  mcc[11] = "6011";
  std::vector<std::string> zeros = GoodFields();
  zeros[8] = "12.500";  // trailing zeros beyond the exponent are exact
  std::string path = WriteFile(
      "ok.csv", absl::StrCat(kHeader, "\n", Row(deposit), "\n", Row(withdrawal),
                             "\n", Row(mcc), "\n", Row(zeros), "\n"));
  std::vector<SourceRecord> r = ReadAll(path);
  ASSERT_EQ(r.size(), 4u);
  for (const SourceRecord& rec : r) {
    EXPECT_EQ(rec.kind, SourceRecord::Kind::kPayment) << rec.reason;
  }
  EXPECT_EQ(r[2].payment.mcc(), 6011u);
  EXPECT_EQ(r[3].payment.amount_minor(), 1250);
}

TEST(CanonicalCsv, UnterminatedQuoteAtEndRejectsItsLineAndReadsOn) {
  std::vector<std::string> f = GoodFields();
  f[12] = "\"never closed";
  std::string bad = Row(f);
  std::string path = WriteFile(
      "unterminated.csv",
      absl::StrCat(kHeader, "\n", kGood, "\n", bad, "\n", kGood, "\n"));
  std::vector<SourceRecord> r = ReadAll(path);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].kind, SourceRecord::Kind::kReject);
  EXPECT_EQ(r[1].location, absl::StrCat(path, ":3"));
  EXPECT_THAT(r[1].reason, HasSubstr("reference"));
  EXPECT_THAT(r[1].reason, HasSubstr("unterminated quote"));
  EXPECT_EQ(r[1].raw, bad);
  // The quote swallowed the next line; it is read again on its own.
  EXPECT_EQ(r[2].kind, SourceRecord::Kind::kPayment) << r[2].reason;
  EXPECT_EQ(r[2].location, absl::StrCat(path, ":4"));

  // Without a final newline, as the very last record.
  std::string path2 =
      WriteFile("unterminated2.csv", absl::StrCat(kHeader, "\n", bad));
  r = ReadAll(path2);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].kind, SourceRecord::Kind::kReject);
  EXPECT_EQ(r[0].location, absl::StrCat(path2, ":2"));
  EXPECT_EQ(r[0].raw, bad);
}

TEST(CanonicalCsv, OverlongRecordRejectsItsFirstLineAndReadsOn) {
  std::vector<std::string> f = GoodFields();
  f[12] = "\"opens a quote";
  std::string bad = Row(f);
  std::string text = absl::StrCat(kHeader, "\n", bad, "\n");
  for (int i = 0; i < 20; ++i) absl::StrAppend(&text, kGood, "\n");
  std::string path = WriteFile("long.csv", text);
  FileSourceOptions options;
  options.buffer_size = 64;
  options.max_record_bytes = 1024;
  std::vector<SourceRecord> r = ReadAll(path, FileFormat::kAuto, options);
  ASSERT_EQ(r.size(), 21u);
  EXPECT_EQ(r[0].kind, SourceRecord::Kind::kReject);
  EXPECT_EQ(r[0].location, absl::StrCat(path, ":2"));
  EXPECT_THAT(r[0].reason, HasSubstr("max_record_bytes"));
  EXPECT_EQ(r[0].raw, bad);
  for (size_t i = 1; i < r.size(); ++i) {
    EXPECT_EQ(r[i].kind, SourceRecord::Kind::kPayment) << r[i].reason;
    EXPECT_EQ(r[i].location, absl::StrCat(path, ":", i + 2));
  }
}

TEST(CanonicalCsv, QuotedFieldsSpanLinesAndKeepLineNumbers) {
  std::vector<std::string> f = GoodFields();
  f[0] = "\"p,1\"";
  f[3] = "\"Anna \"\"AJ\"\" Jensen\"";
  f[12] = "\"line one\nline two, with a comma\r\nline three\"";
  std::string multi = Row(f);
  std::vector<std::string> g = GoodFields();
  g[8] = "0";
  std::string bad = Row(g);
  std::string path = WriteFile(
      "multi.csv", absl::StrCat(kHeader, "\n", multi, "\n", kGood, "\n", bad,
                                "\n", "\"\"", "\n", kGood));
  std::vector<SourceRecord> r = ReadAll(path);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].kind, SourceRecord::Kind::kPayment) << r[0].reason;
  EXPECT_EQ(r[0].location, absl::StrCat(path, ":2"));
  EXPECT_EQ(r[0].payment.id(), "p,1");
  EXPECT_EQ(r[0].payment.debtor_name(), "Anna \"AJ\" Jensen");
  EXPECT_EQ(r[0].payment.reference(),
            "line one\nline two, with a comma\r\nline three");
  EXPECT_EQ(r[1].location, absl::StrCat(path, ":5"));
  EXPECT_EQ(r[1].kind, SourceRecord::Kind::kPayment);
  EXPECT_EQ(r[2].location, absl::StrCat(path, ":6"));
  EXPECT_EQ(r[2].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[2].reason, HasSubstr("amount"));
  EXPECT_EQ(r[3].location, absl::StrCat(path, ":7"));  // "" is one field
  EXPECT_THAT(r[3].reason, HasSubstr("field count"));
  EXPECT_EQ(r[4].location, absl::StrCat(path, ":8"));  // no final newline
  EXPECT_EQ(r[4].kind, SourceRecord::Kind::kPayment);
}

TEST(CanonicalCsv, MultiLineRejectKeepsItsWholeTextAsRaw) {
  std::vector<std::string> f = GoodFields();
  f[10] = "WIRE";
  f[12] = "\"a\nb\"";
  std::string bad = Row(f);
  std::string path = WriteFile(
      "multibad.csv", absl::StrCat(kHeader, "\n", bad, "\n", kGood, "\n"));
  std::vector<SourceRecord> r = ReadAll(path);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].kind, SourceRecord::Kind::kReject);
  EXPECT_EQ(r[0].location, absl::StrCat(path, ":2"));
  EXPECT_EQ(r[0].raw, bad);
  EXPECT_EQ(r[1].location, absl::StrCat(path, ":4"));
}

TEST(CanonicalCsv, ToleratesBomCrlfAndBlankLines) {
  std::string path =
      WriteFile("crlf.csv", absl::StrCat("\xEF\xBB\xBF", kHeader, "\r\n", kGood,
                                         "\r\n", "\r\n", "\n", kGood, "\r\n"));
  auto source = FileSource::Open(path, FileFormat::kAuto);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->format(), FileFormat::kCanonicalCsv);
  std::vector<SourceRecord> r = ReadRest(**source);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].kind, SourceRecord::Kind::kPayment) << r[0].reason;
  EXPECT_EQ(r[0].payment.reference(), "husleje marts");  // no '\r'
  EXPECT_EQ(r[0].location, absl::StrCat(path, ":2"));
  EXPECT_EQ(r[1].location, absl::StrCat(path, ":5"));

  std::vector<std::string> f = GoodFields();
  f[8] = "abc";
  std::string bad = Row(f);
  std::string path2 =
      WriteFile("crlfbad.csv", absl::StrCat(kHeader, "\r\n", bad, "\r\n"));
  r = ReadAll(path2);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].raw, bad);  // without "\r"
}

// A file with every kind of record: quoted, escaped, multi-line, CRLF,
// rejects of each sort, blank lines, no final newline.
std::string MixedCsv() {
  std::string text = absl::StrCat(kHeader, "\r\n");
  for (int i = 0; i < 6; ++i) {
    std::vector<std::string> f = GoodFields();
    f[0] = absl::StrCat("p", i);
    absl::StrAppend(&text, Row(f), i % 2 ? "\r\n" : "\n");
    f[3] = "\"Jensen, \"\"Anna\"\"\"";
    f[12] = absl::StrCat("\"ref ", i, "\nsecond line\"");
    absl::StrAppend(&text, Row(f), "\n");
    f[8] = "1.234";
    absl::StrAppend(&text, Row(f), "\n\n");
    f[8] = "1.23";
    f[12] = "bad\"quote";
    absl::StrAppend(&text, Row(f), "\n");
    f[12] = "\"after\"x";
    absl::StrAppend(&text, Row(f), "\n");
    f[12] = "\xE2\x82\xAC ok";
    absl::StrAppend(&text, Row(f), "\n");
    f[12] = "\xE2\x82 bad";
    absl::StrAppend(&text, Row(f), "\n");
  }
  absl::StrAppend(&text, kGood);
  return text;
}

TEST(CanonicalCsv, SmallBuffersGiveTheSameRecords) {
  std::string path = WriteFile("mixed.csv", MixedCsv());
  std::vector<SourceRecord> expected = ReadAll(path);
  ASSERT_EQ(expected.size(), 6u * 7 + 1);
  int rejects = 0;
  for (const SourceRecord& r : expected) {
    rejects += r.kind == SourceRecord::Kind::kReject;
  }
  EXPECT_EQ(rejects, 6 * 4);
  for (size_t buffer : {1, 2, 3, 7, 13, 64, 100}) {
    FileSourceOptions options;
    options.buffer_size = buffer;
    ExpectSame(expected, ReadAll(path, FileFormat::kAuto, options),
               absl::StrCat("buffer_size ", buffer));
  }
}

TEST(FileSource, DetectsEachFormat) {
  std::string csv = WriteFile("a.csv", absl::StrCat(kHeader, "\n"));
  std::string aml = WriteFile("a.aml", absl::StrCat(kAmlHeader, "\n"));
  std::string jsonl = WriteFile("a.jsonl", "\n  \n{\"id\":\"x\"}\n");
  auto s1 = FileSource::Open(csv, FileFormat::kAuto);
  auto s2 = FileSource::Open(aml, FileFormat::kAuto);
  auto s3 = FileSource::Open(jsonl, FileFormat::kAuto);
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok());
  EXPECT_EQ((*s1)->format(), FileFormat::kCanonicalCsv);
  EXPECT_EQ((*s2)->format(), FileFormat::kAmlworld);
  EXPECT_EQ((*s3)->format(), FileFormat::kJsonl);
}

TEST(FileSource, UnknownHeaderIsInvalidArgumentNamingPathLine1) {
  std::string path = WriteFile("x.csv", "a,b,c\n1,2,3\n");
  auto source = OpenFileSource(path, FileFormat::kAuto);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(source.status().message()),
      StartsWith(absl::StrCat(path, ":1: unrecognised header 'a,b,c'")));
  EXPECT_THAT(std::string(source.status().message()), HasSubstr("expected"));

  // A header with one column renamed is not the canonical header.
  std::string almost = std::string(kHeader);
  almost.replace(almost.find("mcc"), 3, "MCC");
  std::string path2 = WriteFile("y.csv", absl::StrCat(almost, "\n"));
  EXPECT_EQ(OpenFileSource(path2, FileFormat::kAuto).status().code(),
            absl::StatusCode::kInvalidArgument);

  std::string empty = WriteFile("empty.csv", "");
  EXPECT_EQ(OpenFileSource(empty, FileFormat::kAuto).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FileSource, ExplicitFormatWithWrongHeaderIsInvalidArgument) {
  std::string aml = WriteFile("a.aml", absl::StrCat(kAmlHeader, "\n"));
  std::string csv = WriteFile("a.csv", absl::StrCat(kHeader, "\n"));
  auto s1 = OpenFileSource(aml, FileFormat::kCanonicalCsv);
  EXPECT_EQ(s1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s1.status().message()),
              StartsWith(absl::StrCat(aml, ":1: ")));
  auto s2 = OpenFileSource(csv, FileFormat::kAmlworld);
  EXPECT_EQ(s2.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s2.status().message()),
              StartsWith(absl::StrCat(csv, ":1: ")));
  auto s3 = OpenFileSource(csv, FileFormat::kJsonl);
  EXPECT_EQ(s3.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s3.status().message()),
              StartsWith(absl::StrCat(csv, ":1: ")));
  // The right explicit format is fine.
  EXPECT_TRUE(OpenFileSource(csv, FileFormat::kCanonicalCsv).ok());
  EXPECT_TRUE(OpenFileSource(aml, FileFormat::kAmlworld).ok());
}

TEST(FileSource, MissingFileIsNotFound) {
  EXPECT_EQ(OpenFileSource(TempPath("does-not-exist.csv"), FileFormat::kAuto)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(FileSource, BadOptionsAreInvalidArgument) {
  std::string csv = WriteFile("a.csv", absl::StrCat(kHeader, "\n"));
  FileSourceOptions options;
  options.buffer_size = 0;
  EXPECT_EQ(OpenFileSource(csv, FileFormat::kAuto, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Jsonl, ReadsGoodLinesAndRejectsBadOnes) {
  std::string good =
      R"({"id":"j1","timestamp":"2024-03-01T21:15:00Z","debtorAccount":"DK1",)"
      R"("creditor_account":"DK2","amountMinor":"125050","currency":"DKK",)"
      R"("channel":"MOBILE","reference":"tak"})";
  std::string unknown_field =
      R"({"id":"j2","timestamp":"2024-03-01T21:15:00Z","debtor_account":"DK1",)"
      R"("creditor_account":"DK2","amount_minor":1,"currency":"DKK",)"
      R"("channel":"MOBILE","colour":"red"})";
  std::string zero =
      R"({"id":"j3","timestamp":"2024-03-01T21:15:00Z","debtor_account":"DK1",)"
      R"("creditor_account":"DK2","amount_minor":0,"currency":"DKK",)"
      R"("channel":"MOBILE"})";
  std::string bad_country =
      R"({"id":"j4","timestamp":"2024-03-01T21:15:00Z","debtor_account":"DK1",)"
      R"("creditor_account":"DK2","amount_minor":5,"currency":"DKK",)"
      R"("channel":"MOBILE","debtor_country":"Denmark"})";
  std::string no_channel =
      R"({"id":"j5","timestamp":"2024-03-01T21:15:00Z","debtor_account":"DK1",)"
      R"("creditor_account":"DK2","amount_minor":5,"currency":"DKK"})";
  std::string path = WriteFile(
      "p.jsonl",
      absl::StrCat(good, "\n\n", "{not json\n", unknown_field, "\r\n", zero,
                   "\n", bad_country, "\n", no_channel, "\n", "[1,2]\n", good));
  auto source = FileSource::Open(path, FileFormat::kAuto);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->format(), FileFormat::kJsonl);
  std::vector<SourceRecord> r = ReadRest(**source);
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r[0].kind, SourceRecord::Kind::kPayment) << r[0].reason;
  EXPECT_EQ(r[0].location, absl::StrCat(path, ":1"));
  EXPECT_EQ(r[0].payment.id(), "j1");
  EXPECT_EQ(r[0].payment.amount_minor(), 125050);
  EXPECT_EQ(r[0].payment.channel(), Payment::MOBILE);
  EXPECT_EQ(r[0].payment.timestamp().seconds(),
            *ParseUtcTimestamp("2024-03-01T21:15:00Z"));
  EXPECT_EQ(r[1].location, absl::StrCat(path, ":3"));  // blank line skipped
  EXPECT_EQ(r[1].kind, SourceRecord::Kind::kReject);
  EXPECT_EQ(r[1].raw, "{not json");
  EXPECT_THAT(r[1].reason, HasSubstr("JSON"));
  EXPECT_EQ(r[2].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[2].reason, HasSubstr("colour"));
  EXPECT_EQ(r[2].raw, unknown_field);  // without "\r"
  EXPECT_EQ(r[3].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[3].reason, HasSubstr("amount"));
  EXPECT_EQ(r[4].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[4].reason, HasSubstr("debtor_country"));
  EXPECT_EQ(r[5].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[5].reason, HasSubstr("channel"));
  EXPECT_EQ(r[6].kind, SourceRecord::Kind::kReject);
  EXPECT_EQ(r[6].location, absl::StrCat(path, ":8"));
  EXPECT_EQ(r[7].kind, SourceRecord::Kind::kPayment) << r[7].reason;
  EXPECT_EQ(r[7].location, absl::StrCat(path, ":9"));

  FileSourceOptions options;
  options.buffer_size = 5;
  ExpectSame(r, ReadAll(path, FileFormat::kJsonl, options), "jsonl small");
}

TEST(Amlworld, ConvertsRows) {
  std::string path = WriteFile(
      "aml.csv",
      absl::StrCat(
          kAmlHeader, "\n",
          "2022/09/01 02:38,001812,80279F810,0110,8000A94C0,10154.74,"
          "Australian Dollar,10154.74,Australian Dollar,ACH,1\n",
          "2022/09/01 00:20,000,8000EBD30,10,8000EBD30,0.0000245,Bitcoin,"
          "0.00002450,Bitcoin,Bitcoin,0\n",
          "2022/09/02 10:00,1812,80279F810,20,X1,12.345,US Dollar,12.345,"
          "US Dollar,Credit Card,0\n",
          "2022/09/02 10:00,1812,80279F810,20,X1,12.355,US Dollar,1523.5,"
          "Yen,Cash,1\n",
          "2022/09/02 10:00,1812,80279F810,20,X1,1,Euro,0.004,Euro,Wire,0\n",
          "2022/09/02 10:00,1812,80279F810,20,X1,1,Euro,1,Dinar,Wire,0\n",
          "2022/09/02 10:00,1812,80279F810,20,X1,1,Euro,1,Euro,Wire,2\n",
          "2022-09-02 10:00,1812,80279F810,20,X1,1,Euro,1,Euro,Wire,0\n",
          "2022/09/02 10:00,18A,80279F810,20,X1,1,Euro,1,Euro,Wire,0\n"));
  std::vector<SourceRecord> r = ReadAll(path);
  ASSERT_EQ(r.size(), 9u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r[i].kind, SourceRecord::Kind::kPayment) << r[i].reason;
  }
  const Payment& p = r[0].payment;
  EXPECT_EQ(p.id(), "aml-2");
  EXPECT_EQ(r[0].location, absl::StrCat(path, ":2"));
  EXPECT_EQ(p.timestamp().seconds(), *CivilUtcToUnix(2022, 9, 1, 2, 38, 0));
  EXPECT_EQ(p.debtor_account(), "1812:80279F810");
  EXPECT_EQ(p.creditor_account(), "110:8000A94C0");
  EXPECT_EQ(p.amount_minor(), 1015474);
  EXPECT_EQ(p.currency(), "AUD");
  EXPECT_EQ(p.channel(), Payment::TRANSFER);
  EXPECT_EQ(p.reference(), "AMLworld ACH");
  EXPECT_TRUE(p.debtor_name().empty() && p.debtor_country().empty());
  EXPECT_EQ(r[0].label, std::optional<bool>(true));
  EXPECT_EQ(r[1].payment.debtor_account(), "0:8000EBD30");
  EXPECT_EQ(r[1].payment.creditor_account(), "10:8000EBD30");
  EXPECT_EQ(r[1].payment.currency(), "XBT");
  EXPECT_EQ(r[1].payment.amount_minor(), 2450);
  EXPECT_EQ(r[1].label, std::optional<bool>(false));
  EXPECT_EQ(r[2].payment.channel(), Payment::CARD);
  EXPECT_EQ(r[2].payment.amount_minor(), 1234);  // half-even: 12.345 -> 12.34
  EXPECT_EQ(r[3].payment.channel(), Payment::CASH);
  EXPECT_EQ(r[3].payment.currency(), "JPY");
  EXPECT_EQ(r[3].payment.amount_minor(), 1524);  // half-even: 1523.5 -> 1524
  EXPECT_EQ(r[3].payment.reference(), "AMLworld Cash");
  EXPECT_EQ(r[4].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[4].reason, HasSubstr("Amount Paid"));
  EXPECT_EQ(r[5].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[5].reason, HasSubstr("Payment Currency"));
  EXPECT_EQ(r[6].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[6].reason, HasSubstr("Is Laundering"));
  EXPECT_FALSE(r[6].label.has_value());
  EXPECT_EQ(r[7].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[7].reason, HasSubstr("Timestamp"));
  EXPECT_EQ(r[8].kind, SourceRecord::Kind::kReject);
  EXPECT_THAT(r[8].reason, HasSubstr("From Bank"));
  EXPECT_EQ(r[8].location, absl::StrCat(path, ":10"));
}

TEST(Amlworld, ReadsEveryLiSmallPatternRowAsALabelledPayment) {
  std::ifstream in(TXFLAG_SOURCE_DIR
                   "/../shared/data/amlworld/LI-Small_Patterns.txt");
  if (!in) GTEST_SKIP() << "LI-Small_Patterns.txt not found";
  std::string text = absl::StrCat(kAmlHeader, "\n");
  std::string line;
  std::set<std::string> bank_ids;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("BEGIN", 0) == 0 ||
        line.rfind("END", 0) == 0) {
      continue;
    }
    absl::StrAppend(&text, line, "\n");
    std::vector<std::string> f = absl::StrSplit(line, ',');
    bank_ids.insert(f[1]);
  }
  std::string path = WriteFile("li_small.csv", text);
  std::vector<SourceRecord> r = ReadAll(path, FileFormat::kAmlworld);
  ASSERT_EQ(r.size(), 1023u);
  std::set<std::string> currencies;
  for (const SourceRecord& rec : r) {
    ASSERT_EQ(rec.kind, SourceRecord::Kind::kPayment)
        << rec.location << ": " << rec.reason;
    EXPECT_EQ(rec.label, std::optional<bool>(true));
    for (const std::string& account :
         {rec.payment.debtor_account(), rec.payment.creditor_account()}) {
      std::string bank = account.substr(0, account.find(':'));
      EXPECT_TRUE(bank == "0" || (!bank.empty() && bank[0] != '0'))
          << rec.location << ": " << account;
    }
    EXPECT_GT(rec.payment.amount_minor(), 0);
    currencies.insert(rec.payment.currency());
  }
  for (const std::string& c : currencies) {
    EXPECT_TRUE(CurrencyExponent(c).has_value()) << c;
  }
  EXPECT_EQ(currencies.size(), 15u);
  // "001812" and "1812" name one bank.
  EXPECT_TRUE(bank_ids.count("001812") == 1);
  bool found = false;
  for (const SourceRecord& rec : r) {
    if (rec.payment.debtor_account() == "1812:80279F810") found = true;
  }
  EXPECT_TRUE(found);
}

std::vector<std::tuple<std::string, FileFormat, std::string>> ResumeCases() {
  std::string jsonl;
  for (int i = 0; i < 12; ++i) {
    absl::StrAppend(
        &jsonl, R"({"id":"j)", i,
        R"(","timestamp":"2024-03-01T21:15:00Z","debtor_account":"DK1",)"
        R"("creditor_account":"DK2","amount_minor":)",
        i, R"(,"currency":"DKK","channel":"MOBILE"})",
        i % 4 == 3 ? "\n\n" : "\n");
  }
  std::string aml = absl::StrCat(kAmlHeader, "\n");
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&aml, "2022/09/01 02:38,001812,80279F810,0110,8000A94C0,",
                    i, ".5,Euro,", i, ".5,Euro,ACH,", i % 2, "\n");
  }
  return {{"mixed.csv", FileFormat::kCanonicalCsv, MixedCsv()},
          {"resume.jsonl", FileFormat::kJsonl, jsonl},
          {"resume.aml", FileFormat::kAmlworld, aml}};
}

TEST(FileSource, RestoreResumesAfterTheCheckpoint) {
  for (const auto& [name, format, text] : ResumeCases()) {
    SCOPED_TRACE(name);
    std::string path = WriteFile(name, text);
    std::vector<SourceRecord> all = ReadAll(path);
    ASSERT_GT(all.size(), 5u);
    for (size_t buffer : {size_t{7}, size_t{1} << 20}) {
      FileSourceOptions options;
      options.buffer_size = buffer;
      for (size_t k = 0; k <= all.size(); ++k) {
        SCOPED_TRACE(absl::StrCat("k=", k, " buffer=", buffer));
        std::string checkpoint;
        {
          auto first = FileSource::Open(path, FileFormat::kAuto, options);
          ASSERT_TRUE(first.ok()) << first.status();
          EXPECT_EQ((*first)->format(), format);
          SourceRecord record;
          for (size_t i = 0; i < k; ++i) {
            ASSERT_TRUE(*(*first)->Next(&record));
          }
          checkpoint = (*first)->Checkpoint();
        }
        auto second = FileSource::Open(path, FileFormat::kAuto, options);
        ASSERT_TRUE(second.ok());
        ASSERT_TRUE((*second)->Restore(checkpoint).ok());
        std::vector<SourceRecord> rest = ReadRest(**second);
        ExpectSame(std::vector<SourceRecord>(all.begin() + k, all.end()), rest,
                   "rest");
      }
    }
  }
}

TEST(FileSource, RestoreChecksTheFile) {
  std::string a =
      WriteFile("a.csv", absl::StrCat(kHeader, "\n", kGood, "\n", kGood, "\n"));
  std::string other = std::string(kGood);
  other[1] = '9';  // same size, other bytes
  std::string b =
      WriteFile("b.csv", absl::StrCat(kHeader, "\n", other, "\n", kGood, "\n"));
  std::string c = WriteFile("c.csv", absl::StrCat(kHeader, "\n", kGood, "\n"));
  auto sa = FileSource::Open(a, FileFormat::kAuto);
  ASSERT_TRUE(sa.ok());
  SourceRecord record;
  ASSERT_TRUE(*(*sa)->Next(&record));
  std::string checkpoint = (*sa)->Checkpoint();
  EXPECT_THAT(checkpoint, StartsWith("txflag-file-v1 "));
  EXPECT_GT((*sa)->Progress(), 0.4);
  EXPECT_LT((*sa)->Progress(), 1.0);

  for (const std::string& path : {b, c}) {
    auto s = FileSource::Open(path, FileFormat::kAuto);
    ASSERT_TRUE(s.ok());
    absl::Status status = (*s)->Restore(checkpoint);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_THAT(std::string(status.message()),
                StartsWith(absl::StrCat("checkpoint is for ", a, " (size")));
    EXPECT_THAT(std::string(status.message()), HasSubstr("--fresh"));
  }
  auto s = FileSource::Open(a, FileFormat::kAuto);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Restore("garbage").code(),
            absl::StatusCode::kInvalidArgument);
  std::string broken = checkpoint;
  broken.replace(broken.find("offset="), 7, "offset=x");
  EXPECT_EQ((*s)->Restore(broken).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*s)->Restore(checkpoint).ok());
  std::vector<SourceRecord> rest = ReadRest(**s);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].location, absl::StrCat(a, ":3"));
}

}  // namespace
}  // namespace txflag::connectors
