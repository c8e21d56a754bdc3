#include "connectors/generator/generator.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/decimal.h"
#include "base/time_util.h"
#include "connectors/generator/internal/calendar.h"
#include "connectors/generator/internal/csv_writer.h"
#include "connectors/generator/internal/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::generator {
namespace {

using ::testing::ElementsAre;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// RFC 4180 records of `text` (quoted fields may hold commas, quotes, CR/LF).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      field.push_back(c);
      any = true;
    }
  }
  if (any) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string TempDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "txflag_gen_" +
                    std::to_string(::getpid()) + "_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

GeneratorOptions SmallOptions(uint64_t seed) {
  GeneratorOptions o;
  o.seed = seed;
  o.accounts = 1500;
  o.days = 10;
  o.start_date = "2025-03-25";  // spans the switch to summer time
  return o;
}

// One medium population shared by the tests of the fixture.
class GeneratedPopulation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir("shared"));
    GeneratorOptions o;
    o.seed = 7;
    o.accounts = 6000;
    o.days = 35;
    o.start_date = "2025-01-20";
    auto stats = GeneratePopulation(o, *dir_);
    ASSERT_TRUE(stats.ok()) << stats.status();
    stats_ = new GeneratorStats(*stats);
    payments_ = new std::vector<std::vector<std::string>>(
        ParseCsv(ReadAll(*dir_ + "/payments.csv")));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete stats_;
    delete payments_;
  }
  static std::vector<std::vector<std::string>> Read(const std::string& file) {
    return ParseCsv(ReadAll(*dir_ + "/" + file));
  }

  static std::string* dir_;
  static GeneratorStats* stats_;
  static std::vector<std::vector<std::string>>* payments_;
};
std::string* GeneratedPopulation::dir_ = nullptr;
GeneratorStats* GeneratedPopulation::stats_ = nullptr;
std::vector<std::vector<std::string>>* GeneratedPopulation::payments_ = nullptr;

TEST(GeneratePopulation, SameSeedGivesByteIdenticalFiles) {
  std::string a = TempDir("same_a"), b = TempDir("same_b");
  ASSERT_TRUE(GeneratePopulation(SmallOptions(42), a).ok());
  ASSERT_TRUE(GeneratePopulation(SmallOptions(42), b).ok());
  for (const char* file :
       {"payments.csv", "labels.csv", "traps.csv", "rings.csv"}) {
    std::string x = ReadAll(a + "/" + file);
    EXPECT_FALSE(x.empty()) << file;
    EXPECT_TRUE(x == ReadAll(b + "/" + file)) << file << " differs";
  }
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

TEST(GeneratePopulation, DifferentSeedGivesDifferentFiles) {
  std::string a = TempDir("diff_a"), b = TempDir("diff_b");
  ASSERT_TRUE(GeneratePopulation(SmallOptions(1), a).ok());
  ASSERT_TRUE(GeneratePopulation(SmallOptions(2), b).ok());
  EXPECT_NE(ReadAll(a + "/payments.csv"), ReadAll(b + "/payments.csv"));
  EXPECT_NE(ReadAll(a + "/labels.csv"), ReadAll(b + "/labels.csv"));
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

TEST(GeneratePopulation, ReportsProgressEveryDay) {
  std::string dir = TempDir("progress");
  std::vector<int> days;
  int64_t last = 0;
  auto stats = GeneratePopulation(SmallOptions(3), dir,
                                  [&](int day, int total, int64_t payments) {
                                    days.push_back(day);
                                    EXPECT_EQ(total, 10);
                                    EXPECT_GE(payments, last);
                                    last = payments;
                                  });
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(days.size(), 10u);
  EXPECT_EQ(last, stats->payments);
  std::filesystem::remove_all(dir);
}

TEST_F(GeneratedPopulation, HeadersAreExact) {
  std::string payments = ReadAll(*dir_ + "/payments.csv");
  EXPECT_EQ(payments.substr(0, payments.find('\n')),
            "id,timestamp,debtor_account,debtor_name,debtor_country,"
            "creditor_account,creditor_name,creditor_country,amount,currency,"
            "channel,mcc,reference");
  EXPECT_THAT(Read("labels.csv")[0], ElementsAre("account", "typology"));
  EXPECT_THAT(Read("traps.csv")[0], ElementsAre("account", "trap"));
  EXPECT_THAT(Read("rings.csv")[0],
              ElementsAre("ring", "typology", "account", "role", "indicators"));
}

TEST_F(GeneratedPopulation, EveryPaymentRowIsValid) {
  const std::set<std::string> channels = {
      "TRANSFER", "CARD", "MOBILE", "CASH", "REMITTANCE", "DIRECT_DEBIT"};
  ASSERT_GT(payments_->size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(payments_->size()) - 1, stats_->payments);
  std::set<std::string> ids;
  int64_t previous = 0;
  std::map<std::string, int> by_channel;
  int64_t eur = 0, quoted_refs = 0;
  for (size_t i = 1; i < payments_->size(); ++i) {
    const std::vector<std::string>& r = (*payments_)[i];
    ASSERT_EQ(r.size(), 13u) << "row " << i;
    EXPECT_EQ(r[0].size(), 13u);
    EXPECT_EQ(r[0][0], 'P');
    EXPECT_TRUE(ids.insert(r[0]).second) << "duplicate id " << r[0];
    auto ts = ParseUtcTimestamp(r[1]);
    ASSERT_TRUE(ts.ok()) << ts.status();
    EXPECT_GE(*ts, previous) << "row " << i;
    previous = *ts;
    auto amount = ParseDecimalMinor(r[8], 2, ExtraDigits::kReject);
    ASSERT_TRUE(amount.ok()) << amount.status();
    EXPECT_GT(*amount, 0) << "row " << i;
    EXPECT_EQ(r[8].size() - r[8].find('.'), 3u) << r[8];
    EXPECT_TRUE(r[9] == "DKK" || r[9] == "EUR") << r[9];
    eur += r[9] == "EUR";
    ASSERT_TRUE(channels.count(r[10])) << r[10];
    ++by_channel[r[10]];
    if (r[10] == "CARD") {
      EXPECT_EQ(r[11].size(), 4u) << "row " << i;
      EXPECT_EQ(r[11].find_first_not_of("0123456789"), std::string::npos);
    } else {
      EXPECT_EQ(r[11], "") << "row " << i;
    }
    if (r[2].empty() || r[5].empty()) {
      EXPECT_EQ(r[10], "CASH") << "row " << i;
      EXPECT_FALSE(r[2].empty() && r[5].empty()) << "row " << i;
    }
    if (r[10] == "CASH") {
      EXPECT_TRUE(r[2].empty() || r[5].empty());
    }
    quoted_refs += r[12].find(',') != std::string::npos;
  }
  for (const std::string& c : channels) EXPECT_GT(by_channel[c], 0) << c;
  EXPECT_GT(eur, 0);
  EXPECT_LT(eur * 20, stats_->payments);  // DKK mostly
  EXPECT_GT(quoted_refs, 0);              // RFC 4180 quoting exercised
  // Volume: about 2-3 payments per customer per day.
  double per_day = static_cast<double>(stats_->payments) / 6000 / 35;
  EXPECT_GT(per_day, 1.8);
  EXPECT_LT(per_day, 3.5);
}

TEST_F(GeneratedPopulation, CustomerAccountsAreDanishIbans) {
  for (size_t i = 1; i < payments_->size(); i += 97) {
    for (int f : {2, 5}) {
      const std::string& account = (*payments_)[i][f];
      if (account.rfind("DK", 0) != 0) continue;
      EXPECT_EQ(account.size(), 18u) << account;
      EXPECT_EQ(account.find_first_not_of("0123456789", 2), std::string::npos);
    }
  }
}

TEST_F(GeneratedPopulation, LabelsReferenceAccountsInPaymentsAndNoTraps) {
  std::set<std::string> accounts;
  for (size_t i = 1; i < payments_->size(); ++i) {
    accounts.insert((*payments_)[i][2]);
    accounts.insert((*payments_)[i][5]);
  }
  auto labels = Read("labels.csv");
  auto traps = Read("traps.csv");
  std::set<std::string> trap_accounts, trap_kinds, labelled, typologies;
  for (size_t i = 1; i < traps.size(); ++i) {
    ASSERT_EQ(traps[i].size(), 2u);
    trap_accounts.insert(traps[i][0]);
    trap_kinds.insert(traps[i][1]);
  }
  for (size_t i = 1; i < labels.size(); ++i) {
    ASSERT_EQ(labels[i].size(), 2u);
    EXPECT_TRUE(accounts.count(labels[i][0])) << labels[i][0];
    EXPECT_FALSE(trap_accounts.count(labels[i][0])) << labels[i][0];
    EXPECT_TRUE(labelled.insert(labels[i][0]).second) << labels[i][0];
    typologies.insert(labels[i][1]);
  }
  EXPECT_THAT(typologies, ElementsAre("DB", "FL", "SE"));
  EXPECT_EQ(static_cast<int64_t>(labelled.size()), stats_->labelled_accounts);
  EXPECT_EQ(static_cast<int64_t>(trap_accounts.size()), stats_->trap_accounts);
  for (const char* kind :
       {"landlord", "club_treasurer", "student", "shop_ads", "migrant_worker",
        "business_traveller", "massage_salon", "employer", "mover"}) {
    EXPECT_TRUE(trap_kinds.count(kind)) << kind;
  }
  // Every trap account makes or receives payments.
  for (const std::string& account : trap_accounts) {
    EXPECT_TRUE(accounts.count(account)) << account;
  }
}

TEST_F(GeneratedPopulation, RingsDescribeLabelledMembers) {
  auto labels = Read("labels.csv");
  auto rings = Read("rings.csv");
  std::map<std::string, std::string> typology;
  for (size_t i = 1; i < labels.size(); ++i)
    typology[labels[i][0]] = labels[i][1];
  std::set<std::string> ring_ids, roles;
  for (size_t i = 1; i < rings.size(); ++i) {
    ASSERT_EQ(rings[i].size(), 5u);
    ring_ids.insert(rings[i][0]);
    roles.insert(rings[i][3]);
    EXPECT_EQ(typology[rings[i][2]], rings[i][1]);
    EXPECT_FALSE(rings[i][4].empty()) << "ring without indicators";
  }
  EXPECT_EQ(static_cast<int64_t>(ring_ids.size()), stats_->rings);
  EXPECT_EQ(rings.size() - 1, labels.size() - 1);
  EXPECT_TRUE(roles.count("victim"));
  EXPECT_TRUE(roles.count("controller"));
  EXPECT_TRUE(roles.count("employer"));
  EXPECT_TRUE(roles.count("worker"));
}

TEST(GeneratorOptions, DefaultsAreValid) {
  EXPECT_TRUE(GeneratorOptions().Validate().ok());
  EXPECT_EQ(GeneratorOptions().EffectiveRings(), 6);
  GeneratorOptions small;
  small.accounts = 100;
  EXPECT_EQ(small.EffectiveRings(), 3);
}

TEST(GeneratorOptions, RejectsBadOptionsWithInvalidArgument) {
  auto invalid = [](auto mutate) {
    GeneratorOptions o;
    mutate(o);
    return o.Validate().code() == absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.accounts = 99; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.accounts = -5; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.days = 0; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.days = 3661; }));
  EXPECT_TRUE(
      invalid([](GeneratorOptions& o) { o.start_date = "2025-02-30"; }));
  EXPECT_TRUE(
      invalid([](GeneratorOptions& o) { o.start_date = "2025/01/01"; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.start_date = ""; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.rings = -2; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.rings = 100000; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.trap_scale = -1; }));
  GeneratorOptions bad;
  bad.days = 0;
  EXPECT_EQ(GeneratePopulation(bad, TempDir("bad")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GeneratePopulation, UnwritableDirectoryIsReportedWithSpecificCode) {
  GeneratorOptions o = SmallOptions(1);
  auto stats = GeneratePopulation(o, "/proc/txflag_no_such_dir/out");
  EXPECT_FALSE(stats.ok());
  EXPECT_NE(stats.status().code(), absl::StatusCode::kUnknown);
}

TEST(Calendar, CopenhagenSummerTimeFollowsTheEuRule) {
  using internal::LocalToUtc;
  int64_t mar30 = DaysFromCivil(2025, 3, 30);  // last Sunday of March
  EXPECT_EQ(LocalToUtc(mar30, 1 * 3600), mar30 * 86400 + 0 * 3600);  // CET
  EXPECT_EQ(LocalToUtc(mar30, 4 * 3600), mar30 * 86400 + 2 * 3600);  // CEST
  int64_t oct26 = DaysFromCivil(2025, 10, 26);  // last Sunday of October
  EXPECT_EQ(LocalToUtc(oct26, 1 * 3600), oct26 * 86400 - 1 * 3600);
  EXPECT_EQ(LocalToUtc(oct26, 4 * 3600), oct26 * 86400 + 3 * 3600);
  int64_t jul1 = DaysFromCivil(2025, 7, 1);
  EXPECT_EQ(LocalToUtc(jul1, 12 * 3600), jul1 * 86400 + 10 * 3600);
}

TEST(Calendar, DanishBankDays) {
  using internal::IsBankDay;
  EXPECT_FALSE(IsBankDay(DaysFromCivil(2025, 1, 1)));   // New Year
  EXPECT_FALSE(IsBankDay(DaysFromCivil(2025, 4, 17)));  // Maundy Thursday
  EXPECT_FALSE(IsBankDay(DaysFromCivil(2025, 4, 21)));  // Easter Monday
  EXPECT_FALSE(IsBankDay(DaysFromCivil(2025, 5, 29)));  // Ascension
  EXPECT_FALSE(IsBankDay(DaysFromCivil(2025, 6, 5)));   // Constitution Day
  EXPECT_FALSE(IsBankDay(DaysFromCivil(2025, 1, 4)));   // Saturday
  EXPECT_TRUE(IsBankDay(DaysFromCivil(2025, 1, 31)));   // Friday
  EXPECT_EQ(internal::Weekday(DaysFromCivil(2025, 1, 1)), 2);  // Wednesday
}

TEST(Random, SequenceIsFixedForASeed) {
  // Pinned: a change here changes every generated data set.
  internal::Rng rng(1);
  uint64_t first = rng.Next();
  internal::Rng again(1);
  EXPECT_EQ(again.Next(), first);
  internal::Rng r(99);
  for (int i = 0; i < 10000; ++i) {
    int64_t v = r.Between(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
  }
}

TEST(CsvField, QuotesPerRfc4180) {
  EXPECT_EQ(internal::CsvField("plain"), "plain");
  EXPECT_EQ(internal::CsvField("pizza, øl"), "\"pizza, øl\"");
  EXPECT_EQ(internal::CsvField("husk \"gaven\""), "\"husk \"\"gaven\"\"\"");
  EXPECT_EQ(internal::CsvField("a\nb"), "\"a\nb\"");
}

}  // namespace
}  // namespace txflag::generator
