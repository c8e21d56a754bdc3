#include "rules/rule_pack.h"

#include <string>
#include <vector>

#include "base/currency.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::string> Ids(const CompiledPack& pack) {
  std::vector<std::string> ids;
  for (const auto& r : pack.rules) ids.push_back(r->id());
  return ids;
}

// Compiles `text` as "t.pack" and returns the error message ("" when OK).
std::string ErrorOf(const std::string& text) {
  absl::StatusOr<CompiledPack> pack = CompileRulePack(text, "t.pack");
  if (pack.ok()) return "";
  EXPECT_EQ(pack.status().code(), absl::StatusCode::kInvalidArgument)
      << pack.status();
  return std::string(pack.status().message());
}

constexpr char kHead[] = "name: \"t\"\nversion: \"1\"\n";  // lines 1-2

TEST(RulePack, DefaultPackCompilesWithItsSixRules) {
  auto pack = CompileRulePack(DefaultRulePackText(), "rules/default.pack");
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_THAT(Ids(*pack),
              ElementsAre("small_transfers_in", "small_transfers_out",
                          "ad_payments", "rent_high_rate",
                          "rent_several_landlords", "rent_many_payers"));
  EXPECT_EQ(pack->stamp.name(), "txflag-default");
  EXPECT_EQ(pack->stamp.version(), "1.0.0");
  EXPECT_THAT(pack->stamp.content_hash(), StartsWith("sha256:"));
  EXPECT_EQ(pack->stamp.content_hash().size(), 7u + 64u);
  EXPECT_EQ(pack->base_exponent, 2);
  EXPECT_EQ(pack->time_zone.name(), "Europe/Copenhagen");
  EXPECT_EQ(pack->max_window_seconds, 30 * 86400);
  EXPECT_DOUBLE_EQ(pack->rates.at("DKK"), 1.0);
  EXPECT_DOUBLE_EQ(pack->rates.at("EUR"), 7.46);
  EXPECT_DOUBLE_EQ(pack->rates.at("XBT"), 450000);
  EXPECT_EQ(pack->proto.suppression_days(), 30u);
  EXPECT_EQ(pack->rules[1]->typologies(),
            (std::vector<std::string>{"SE", "DB"}));
}

TEST(RulePack, EmbeddedPackIsTheFileInTheRepository) {
  auto file = LoadRulePackFile(TXFLAG_SOURCE_DIR "/rules/default.pack");
  ASSERT_TRUE(file.ok()) << file.status();
  auto embedded = CompileRulePack(DefaultRulePackText(), "embedded");
  ASSERT_TRUE(embedded.ok());
  EXPECT_EQ(file->stamp.content_hash(), embedded->stamp.content_hash());
}

TEST(RulePack, EveryBuiltinRateIsAKnownCurrency) {
  auto pack = CompileRulePack(kHead, "t.pack");
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_GE(pack->rates.size(), 25u);
  for (const auto& [code, rate] : pack->rates) {
    EXPECT_TRUE(CurrencyExponent(code).has_value()) << code;
    EXPECT_GT(rate, 0) << code;
  }
  EXPECT_TRUE(pack->rules.empty());
  EXPECT_EQ(pack->max_window_seconds, 0);
}

TEST(RulePack, MissingFileIsNotFoundNamingThePath) {
  auto pack = LoadRulePackFile("/nonexistent/dir/my.pack");
  EXPECT_EQ(pack.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(pack.status().message()),
              HasSubstr("/nonexistent/dir/my.pack"));
  auto dir = LoadRulePackFile(TXFLAG_SOURCE_DIR "/rules");
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kNotFound);
}

TEST(RulePack, ContentHashFollowsTheBytes) {
  std::string a = std::string(kHead);
  std::string b = a + "# a comment changes the file\n";
  auto pa = CompileRulePack(a, "a");
  auto pa2 = CompileRulePack(a, "other name");
  auto pb = CompileRulePack(b, "b");
  ASSERT_TRUE(pa.ok() && pa2.ok() && pb.ok());
  EXPECT_EQ(pa->stamp.content_hash(), pa2->stamp.content_hash());
  EXPECT_NE(pa->stamp.content_hash(), pb->stamp.content_hash());
}

// ---- Syntax errors: "<source>:<line>:<column>: <message>" ----

TEST(RulePack, SyntaxErrorNamesLineAndColumn) {
  std::string msg = ErrorOf(std::string(kHead) + "rule {\n  id: \"a\"\n");
  EXPECT_THAT(msg, StartsWith("t.pack:5:1: "));
  msg = ErrorOf(std::string(kHead) + "rule {\n  id: \"a\" }}\n");
  EXPECT_THAT(msg, StartsWith("t.pack:4:12: "));
}

TEST(RulePack, UnknownKeyNamesLineAndKey) {
  std::string msg = ErrorOf(std::string(kHead) +
                            "rule {\n"               // 3
                            "  id: \"a\"\n"          // 4
                            "  small_transfers {\n"  // 5
                            "    min_paymnets: 3\n"  // 6
                            "  }\n}\n");
  EXPECT_THAT(msg, StartsWith("t.pack:6:5: "));
  EXPECT_THAT(msg, HasSubstr("min_paymnets"));
  EXPECT_THAT(msg, HasSubstr("proto/rule_pack.proto"));
}

TEST(RulePack, WrongTypeNamesLine) {
  std::string msg =
      ErrorOf(std::string(kHead) + "suppression_days: \"thirty\"\n");  // 3
  EXPECT_THAT(msg, StartsWith("t.pack:3:"));
  msg = ErrorOf(std::string(kHead) +
                "rule { id: \"a\" small_transfers { direction: SIDEWAYS } }\n");
  EXPECT_THAT(msg, StartsWith("t.pack:3:"));
  EXPECT_THAT(msg, HasSubstr("SIDEWAYS"));
  msg =
      ErrorOf(std::string(kHead) +
              "rule {\n id: \"a\"\n small_transfers {}\n ad_payments {}\n}\n");
  EXPECT_THAT(msg, StartsWith("t.pack:6:"));
}

// ---- Semantic errors: "<source>:<line>: <key path>: <message>" ----

TEST(RulePack, MaxBelowMinNamesFieldLineAndPath) {
  std::string good_rule =
      "rule { id: \"r%d\" typology: \"SE\" "
      "small_transfers {} }\n";
  std::string text = std::string(kHead) +
                     "rule { id: \"r0\" typology: \"SE\" small_transfers {} }\n"
                     "rule { id: \"r1\" typology: \"SE\" ad_payments { "
                     "watchlist_name: \"eroguide\" } }\n"
                     "rule {\n"               // 5
                     "  id: \"r2\"\n"         // 6
                     "  typology: \"SE\"\n"   // 7
                     "  small_transfers {\n"  // 8
                     "    min_amount: 100\n"  // 9
                     "    max_amount: 50\n"   // 10
                     "  }\n"
                     "}\n";
  EXPECT_EQ(ErrorOf(text),
            "t.pack:10: rule[2].small_transfers.max_amount: must be >= "
            "min_amount (100), got 50");
}

TEST(RulePack, AbsentFieldIsBlamedOnItsRule) {
  // min_active_days (default 4) is absent; window_days 3 makes it invalid.
  std::string text = std::string(kHead) +
                     "\n"                                      // 3
                     "rule {\n"                                // 4
                     "  id: \"a\"\n"                           // 5
                     "  typology: \"SE\"\n"                    // 6
                     "  small_transfers { window_days: 3 }\n"  // 7
                     "}\n";
  EXPECT_EQ(ErrorOf(text),
            "t.pack:4: rule[0].small_transfers.min_active_days: must be <= "
            "window_days (3), got 4");
}

TEST(RulePack, TopLevelErrors) {
  EXPECT_THAT(ErrorOf("version: \"1\"\n"),
              StartsWith("t.pack:1: name: is required"));
  EXPECT_THAT(ErrorOf("name: \"t\"\n\nversion: \"\"\n"),
              StartsWith("t.pack:3: version: is required"));
  EXPECT_THAT(ErrorOf(std::string(kHead) + "base_currency: \"XYZ\"\n"),
              StartsWith("t.pack:3: base_currency: 'XYZ' is not"));
  EXPECT_THAT(ErrorOf(std::string(kHead) + "base_currency: \"dkk\"\n"),
              StartsWith("t.pack:3: base_currency:"));
  std::string tz =
      ErrorOf(std::string(kHead) + "time_zone: \"Mars/Olympus\"\n");
  EXPECT_THAT(tz, StartsWith("t.pack:3: time_zone: cannot load time zone "
                             "'Mars/Olympus'"));
  EXPECT_THAT(tz, HasSubstr("tzdata"));
  EXPECT_EQ(ErrorOf(std::string(kHead) + "suppression_days: 0\n"),
            "t.pack:3: suppression_days: must be between 1 and 3650 days, "
            "got 0");
  EXPECT_EQ(ErrorOf(std::string(kHead) + "suppression_days: 3651\n"),
            "t.pack:3: suppression_days: must be between 1 and 3650 days, "
            "got 3651");
  EXPECT_EQ(ErrorOf(std::string(kHead) + "\nmax_evidence_transactions: 0\n"),
            "t.pack:4: max_evidence_transactions: must be between 1 and "
            "100000, got 0");
  EXPECT_EQ(ErrorOf(std::string(kHead) + "max_evidence_transactions: 100000\n"),
            "");
}

TEST(RulePack, RateErrors) {
  EXPECT_THAT(ErrorOf(std::string(kHead) +
                      "rate { currency: \"EUR\" rate: 7.5 }\n"
                      "rate {\n  currency: \"QQQ\"\n  rate: 1\n}\n"),
              StartsWith("t.pack:5: rate[1].currency: 'QQQ' is not"));
  EXPECT_THAT(
      ErrorOf(std::string(kHead) +
              "rate {\n  currency: \"EUR\"\n  rate: 0\n}\n"),
      StartsWith("t.pack:5: rate[0].rate: must be a finite number > 0"));
  EXPECT_THAT(
      ErrorOf(std::string(kHead) + "rate { currency: \"EUR\" rate: inf }\n"),
      StartsWith("t.pack:3: rate[0].rate: must be a finite"));
  EXPECT_THAT(ErrorOf(std::string(kHead) + "rate {\n}\n"),
              StartsWith("t.pack:3: rate[0].currency: '' is not"));
  EXPECT_THAT(
      ErrorOf(std::string(kHead) + "rate { currency: \"EUR\" rate: 7.5 }\n"
                                   "rate { currency: \"EUR\" rate: 7.4 }\n"),
      StartsWith("t.pack:4: rate[1].currency: 'EUR' already has a "
                 "rate"));
  EXPECT_THAT(
      ErrorOf(std::string(kHead) + "rate { currency: \"DKK\" rate: 2 }\n"),
      StartsWith("t.pack:3: rate[0].rate: the base currency DKK"));
}

TEST(RulePack, RatesOverrideBuiltinsAndFollowTheBase) {
  auto pack = CompileRulePack(
      std::string(kHead) + "rate { currency: \"USD\" rate: 7.0 }\n", "t.pack");
  ASSERT_TRUE(pack.ok());
  EXPECT_DOUBLE_EQ(pack->rates.at("USD"), 7.0);
  EXPECT_DOUBLE_EQ(pack->rates.at("SEK"), 0.65);

  auto eur = CompileRulePack(std::string(kHead) + "base_currency: \"EUR\"\n",
                             "t.pack");
  ASSERT_TRUE(eur.ok()) << eur.status();
  EXPECT_DOUBLE_EQ(eur->rates.at("EUR"), 1.0);
  EXPECT_DOUBLE_EQ(eur->rates.at("DKK"), 1 / 7.46);
  EXPECT_DOUBLE_EQ(eur->rates.at("USD"), 6.90 / 7.46);

  EXPECT_THAT(ErrorOf(std::string(kHead) + "base_currency: \"KWD\"\n"),
              StartsWith("t.pack:3: base_currency: no built-in DKK rate for "
                         "KWD"));
  auto kwd = CompileRulePack(std::string(kHead) +
                                 "base_currency: \"KWD\"\n"
                                 "rate { currency: \"DKK\" rate: 0.044 }\n",
                             "t.pack");
  ASSERT_TRUE(kwd.ok()) << kwd.status();
  EXPECT_EQ(kwd->base_exponent, 3);
  EXPECT_DOUBLE_EQ(kwd->rates.at("KWD"), 1.0);
  EXPECT_DOUBLE_EQ(kwd->rates.at("EUR"), 7.46 * 0.044);
}

// One-rule pack: lines 3 "rule {", 4 "  id", 5 "  typology", 6 the kind.
std::string OneRule(const std::string& id, const std::string& typology,
                    const std::string& kind, const std::string& extra = "") {
  return std::string(kHead) + "rule {\n" + "  id: \"" + id + "\"\n" +
         "  typology: \"" + typology + "\"\n" + kind + extra + "}\n";
}

TEST(RulePack, RuleIdentityErrors) {
  const std::string st = "  small_transfers {}\n";
  EXPECT_THAT(ErrorOf(OneRule("Bad-Id", "SE", st)),
              StartsWith("t.pack:4: rule[0].id: 'Bad-Id' must be"));
  EXPECT_THAT(ErrorOf(std::string(kHead) +
                      "rule {\n  typology: \"SE\"\n  small_transfers {}\n}\n"),
              StartsWith("t.pack:3: rule[0].id: is required"));
  EXPECT_THAT(ErrorOf(OneRule("a", "SX", st)),
              StartsWith("t.pack:5: rule[0].typology[0]: 'SX' is not SE, FL "
                         "or DB"));
  EXPECT_THAT(ErrorOf(OneRule("a", "SE", st, "  typology: \"SE\"\n")),
              StartsWith("t.pack:7: rule[0].typology[1]: 'SE' is repeated"));
  EXPECT_THAT(ErrorOf(std::string(kHead) +
                      "rule {\n  id: \"a\"\n  small_transfers {}\n}\n"),
              StartsWith("t.pack:3: rule[0].typology: at least one"));
  EXPECT_THAT(ErrorOf(OneRule("a", "SE", "")),
              StartsWith("t.pack:3: rule[0].kind: no rule kind set"));
  EXPECT_THAT(ErrorOf(OneRule("a", "SE", st, "  base_score: 0\n")),
              StartsWith("t.pack:7: rule[0].base_score: must be in (0, 100], "
                         "got 0"));
  EXPECT_THAT(ErrorOf(OneRule("a", "SE", st, "  base_score: 100.5\n")),
              StartsWith("t.pack:7: rule[0].base_score:"));
  EXPECT_EQ(ErrorOf(OneRule("a", "SE", st, "  base_score: 100\n")), "");
  EXPECT_EQ(ErrorOf(std::string(kHead) +
                    "rule { id: \"a\" typology: \"SE\" small_transfers {} }\n"
                    "rule { id: \"b\" typology: \"SE\" small_transfers {} }\n"
                    "rule {\n  id: \"a\"\n  typology: \"FL\"\n"
                    "  small_transfers {}\n}\n"),
            "t.pack:6: rule[2].id: 'a' is already the id of rule[0]; rule "
            "ids must be unique");
}

TEST(RulePack, SmallTransfersRangeErrors) {
  auto err = [](const std::string& body) {
    return ErrorOf(
        OneRule("a", "SE", "  small_transfers {\n" + body + "  }\n"));
  };
  // The kind opens on line 6, so its first field is on line 7.
  EXPECT_EQ(err("    window_days: 0\n"),
            "t.pack:7: rule[0].small_transfers.window_days: must be between 1 "
            "and 366, got 0");
  EXPECT_THAT(err("    window_days: 367\n"),
              StartsWith("t.pack:7: rule[0].small_transfers.window_days:"));
  EXPECT_EQ(err("    min_amount: -5\n"),
            "t.pack:7: rule[0].small_transfers.min_amount: must be a finite "
            "amount >= 0, got -5");
  EXPECT_THAT(err("    max_amount: nan\n"),
              StartsWith("t.pack:7: rule[0].small_transfers.max_amount: must "
                         "be a finite"));
  EXPECT_EQ(err("    min_payments: 0\n"),
            "t.pack:7: rule[0].small_transfers.min_payments: must be >= 1, "
            "got 0");
  EXPECT_THAT(err("\n    min_counterparties: 0\n"),
              StartsWith("t.pack:8: rule[0].small_transfers."
                         "min_counterparties: must be >= 1"));
  EXPECT_THAT(err("    min_active_days: 0\n"),
              StartsWith("t.pack:7: rule[0].small_transfers.min_active_days:"));
  EXPECT_EQ(err("    min_night_share: 1.5\n"),
            "t.pack:7: rule[0].small_transfers.min_night_share: must be a "
            "share between 0 and 1, got 1.5");
  EXPECT_EQ(err("    night_start_hour: 24\n"),
            "t.pack:7: rule[0].small_transfers.night_start_hour: must be "
            "between 0 and 23, got 24");
  EXPECT_THAT(err("    night_end_hour: 20\n"),
              StartsWith("t.pack:7: rule[0].small_transfers.night_end_hour: "
                         "must differ from night_start_hour (20)"));
  EXPECT_THAT(err("    channel: CHANNEL_UNSPECIFIED\n"),
              StartsWith("t.pack:7: rule[0].small_transfers.channel[0]:"));
  EXPECT_EQ(err("    min_night_share: 0\n    night_end_hour: 20\n"), "");
}

TEST(RulePack, AdPaymentsErrors) {
  auto err = [](const std::string& body) {
    return ErrorOf(OneRule("a", "SE", "  ad_payments {\n" + body + "  }\n"));
  };
  EXPECT_EQ(err("    watchlist_name: \"eroguide\"\n    mcc: 10000\n"),
            "t.pack:8: rule[0].ad_payments.mcc[0]: must be a merchant "
            "category code 0-9999, got 10000");
  EXPECT_THAT(err("    watchlist_name: \"eroguide\"\n    watchlist_name: "
                  "\"--\"\n"),
              StartsWith("t.pack:8: rule[0].ad_payments.watchlist_name[1]: "
                         "'--' has no letters or digits"));
  EXPECT_THAT(err("    min_payments: 2\n"),
              StartsWith("t.pack:3: rule[0].ad_payments.require_watchlist: is "
                         "true but watchlist_name and watchlist_account are "
                         "empty"));
  EXPECT_EQ(err("    require_watchlist: false\n"), "");
  EXPECT_THAT(
      err("    watchlist_account: \"\"\n"),
      StartsWith("t.pack:7: rule[0].ad_payments.watchlist_account[0]:"));
  EXPECT_THAT(err("    watchlist_name: \"x\"\n    max_amount: -1\n"),
              StartsWith("t.pack:8: rule[0].ad_payments.max_amount:"));
}

TEST(RulePack, RentPatternsErrors) {
  auto err = [](const std::string& body) {
    return ErrorOf(OneRule("a", "FL", "  rent_patterns {\n" + body + "  }\n"));
  };
  EXPECT_THAT(err("    reference_keyword: \"husleje\"\n"
                  "    reference_keyword: \"two words\"\n"),
              StartsWith("t.pack:8: rule[0].rent_patterns.reference_keyword[1]:"
                         " 'two words' must be one word"));
  EXPECT_EQ(err("    min_payers: 0\n"),
            "t.pack:7: rule[0].rent_patterns.min_payers: must be >= 1, got 0");
  EXPECT_THAT(err("    min_landlords: 0\n"),
              StartsWith("t.pack:7: rule[0].rent_patterns.min_landlords:"));
  EXPECT_THAT(err("    min_payments_per_landlord: 0\n"),
              StartsWith("t.pack:7: rule[0].rent_patterns."
                         "min_payments_per_landlord:"));
  EXPECT_THAT(err("    min_total_per_landlord: -1\n"),
              StartsWith("t.pack:7: rule[0].rent_patterns."
                         "min_total_per_landlord:"));
  EXPECT_THAT(err("    window_days: 400\n"),
              StartsWith("t.pack:7: rule[0].rent_patterns.window_days:"));
  EXPECT_EQ(err("    scenario: MANY_PAYERS\n"), "");
}

TEST(RulePack, DisabledRulesAreValidatedButNotRun) {
  EXPECT_THAT(
      ErrorOf(OneRule("a", "SE", "  small_transfers { window_days: 0 }\n",
                      "  enabled: false\n")),
      StartsWith("t.pack:6: rule[0].small_transfers.window_days:"));
  auto pack = CompileRulePack(
      std::string(kHead) +
          "rule { id: \"on\" typology: \"SE\" small_transfers {} }\n"
          "rule { id: \"off\" typology: \"SE\" enabled: false\n"
          "       rent_patterns { window_days: 90 } }\n",
      "t.pack");
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_THAT(Ids(*pack), ElementsAre("on"));
  EXPECT_EQ(pack->max_window_seconds, 7 * 86400);
  EXPECT_EQ(pack->proto.rule_size(), 2);
}

}  // namespace
}  // namespace txflag::rules
