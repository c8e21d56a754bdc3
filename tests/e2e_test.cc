// End to end: a generated population back-tested with the default rule pack
// (which ring accounts and which trap accounts are alerted), and the AMLworld
// reader on the shared LI-Small patterns.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/alert.pb.h"
#include "tests/subprocess.h"

namespace txflag::testing {
namespace {

using ::testing::HasSubstr;

std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

std::vector<txflag::v1::Alert> ReadAlerts(const std::string& path) {
  std::vector<txflag::v1::Alert> alerts;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    txflag::v1::Alert a;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &a).ok())
        << line;
    alerts.push_back(a);
  }
  return alerts;
}

class GeneratedPopulation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(FreshDir("e2e"));
    CommandResult gen =
        RunCommand({TxflagBinary(), "gen", "--seed", "11", "--accounts",
                    "15000", "--days", "60", "--out", *dir_ + "/data"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    CommandResult bt = RunCommand({TxflagBinary(), "backtest", "--input",
                                   *dir_ + "/data/payments.csv", "--labels",
                                   *dir_ + "/data/labels.csv", "--out",
                                   *dir_ + "/out", "--no-progress"});
    ASSERT_EQ(bt.exit_code, 0) << bt.err;
    *summary_ = bt.out;
    for (const auto& a : ReadAlerts(*dir_ + "/out/alerts.jsonl")) {
      for (const auto& r : a.rules()) (*alerted_)[a.account()].insert(r);
      alerts_->push_back(a);
    }
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string* dir_;
  static inline std::string* summary_ = new std::string;
  static inline std::map<std::string, std::set<std::string>>* alerted_ =
      new std::map<std::string, std::set<std::string>>;
  static inline std::vector<txflag::v1::Alert>* alerts_ =
      new std::vector<txflag::v1::Alert>;
};

std::string* GeneratedPopulation::dir_ = nullptr;

TEST_F(GeneratedPopulation, AlertsCarryEvidenceAndTheRulePack) {
  ASSERT_FALSE(alerts_->empty());
  std::set<std::string> ids;
  for (const auto& a : *alerts_) {
    EXPECT_TRUE(ids.insert(a.alert_id()).second)
        << "duplicate " << a.alert_id();
    EXPECT_GE(a.revision(), 1u);
    EXPECT_FALSE(a.typologies().empty());
    EXPECT_EQ(a.rules_size(), 1);
    EXPECT_GT(a.score(), 0);
    EXPECT_LE(a.score(), 100);
    EXPECT_LE(a.window_start().seconds(), a.window_end().seconds());
    EXPECT_FALSE(a.evidence().transactions().empty());
    EXPECT_FALSE(a.evidence().aggregates().empty());
    EXPECT_FALSE(a.explanation().empty());
    EXPECT_EQ(a.rule_pack().name(), "txflag-default");
    EXPECT_THAT(a.rule_pack().content_hash(), HasSubstr("sha256:"));
  }
  EXPECT_THAT(*summary_, HasSubstr("precision"));
}

// The same file with every third payment delivered twice in a row (an
// upstream that retried): the copies count once, so the alerts are exactly
// those of the clean file, byte for byte, and the summary counts the
// skipped legs.
TEST_F(GeneratedPopulation, PaymentsDeliveredTwiceGiveTheSameAlerts) {
  std::ifstream in(*dir_ + "/data/payments.csv");
  std::ofstream out(*dir_ + "/twice.csv");
  std::string line;
  int64_t row = 0;
  while (std::getline(in, line)) {
    out << line << "\n";
    if (row++ > 0 && row % 3 == 0) out << line << "\n";
  }
  out.close();
  CommandResult bt =
      RunCommand({TxflagBinary(), "backtest", "--input", *dir_ + "/twice.csv",
                  "--out", *dir_ + "/twice", "--no-progress"});
  ASSERT_EQ(bt.exit_code, 0) << bt.err;
  EXPECT_THAT(bt.out, HasSubstr("repeated legs"));
  auto slurp = [](const std::string& path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  const std::string alerts = slurp(*dir_ + "/out/alerts.jsonl");
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(slurp(*dir_ + "/twice/alerts.jsonl"), alerts);
}

TEST_F(GeneratedPopulation, FindsTheRingsThatShowIndicatorsThePackCovers) {
  // rings.csv: ring,typology,account,role,indicators (';'-separated). The
  // generator names indicators after the rules that catch them; rings that
  // only show indicators of rules still to come (wage skimming, fixed
  // instalments, ...) are not counted.
  const std::set<std::string> covered = {
      "small_transfers_in", "small_transfers_out",    "ad_payments",
      "rent_high_rate",     "rent_several_landlords", "rent_many_payers"};
  auto rings = ReadCsv(*dir_ + "/data/rings.csv");
  ASSERT_FALSE(rings.empty());
  std::map<std::string, bool> found;  // covered ring -> any member alerted
  for (const auto& row : rings) {
    ASSERT_EQ(row.size(), 5u);
    bool is_covered = false;
    std::stringstream ss(row[4]);
    std::string indicator;
    while (std::getline(ss, indicator, ';')) {
      is_covered = is_covered || covered.contains(indicator);
    }
    if (!is_covered) continue;
    found[row[0]] = found[row[0]] || alerted_->contains(row[2]);
  }
  ASSERT_GE(found.size(), 3u);
  int hits = 0;
  for (const auto& [ring, hit] : found) hits += hit;
  // Some rings are deliberately weak; the default pack must find at least
  // three in four of the rest.
  EXPECT_GE(hits * 4, static_cast<int>(found.size()) * 3)
      << hits << " of " << found.size() << " covered rings alerted";
}

TEST_F(GeneratedPopulation, LeavesTheTrapsAlone) {
  auto traps = ReadCsv(*dir_ + "/data/traps.csv");
  ASSERT_FALSE(traps.empty());
  std::map<std::string, std::pair<int, int>> by_kind;  // alerted, total
  for (const auto& row : traps) {
    ASSERT_EQ(row.size(), 2u);
    auto& [alerted, total] = by_kind[row[1]];
    ++total;
    alerted += alerted_->contains(row[0]);
  }
  for (const auto& [kind, counts] : by_kind) {
    // No trap population may be alerted at more than 5%.
    EXPECT_LE(counts.first * 20, counts.second)
        << kind << ": " << counts.first << " of " << counts.second
        << " alerted";
  }
  for (const char* kind : {"landlord", "club_treasurer", "shop_ads"}) {
    EXPECT_TRUE(by_kind.contains(kind)) << kind << " traps missing";
  }
}

TEST(Amlworld, ReadsTheSharedLiSmallPatternsWithTheirLabels) {
  std::string patterns = std::string(TXFLAG_SOURCE_DIR) +
                         "/../shared/data/amlworld/LI-Small_Patterns.txt";
  if (!std::filesystem::exists(patterns)) GTEST_SKIP() << patterns << " absent";
  std::string dir = FreshDir("amlworld");
  std::string input = dir + "/li-small.csv";
  {
    std::ifstream in(patterns);
    std::ofstream out(input);
    out << "Timestamp,From Bank,Account,To Bank,Account,Amount Received,"
           "Receiving Currency,Amount Paid,Payment Currency,Payment Format,"
           "Is Laundering\n";
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line.rfind("BEGIN", 0) == 0 ||
          line.rfind("END", 0) == 0)
        continue;
      out << line << "\n";
    }
  }
  CommandResult r =
      RunCommand({TxflagBinary(), "backtest", "--input", input, "--out",
                  dir + "/out", "--allowed-lateness", "864000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string summary = ReadFile(dir + "/out/summary.json");
  EXPECT_THAT(summary, HasSubstr("\"format\": \"amlworld\""));
  EXPECT_THAT(summary, HasSubstr("\"records\": 1023"));
  EXPECT_THAT(summary, HasSubstr("\"payments\": 1023"));
  EXPECT_THAT(summary, HasSubstr("\"rejected\": 0"));
  EXPECT_THAT(summary, HasSubstr("\"late\": 0"));
  EXPECT_THAT(summary, HasSubstr("\"labelled\": true"));
  EXPECT_THAT(r.out, HasSubstr("laundering"));
}

}  // namespace
}  // namespace txflag::testing
