#include "rules/ad_payments.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/rule_factory.h"
#include "rules/testing/rule_driver.h"

namespace txflag::rules {
namespace {

using testing::At;
using ::testing::HasSubstr;
using testing::Pay;
using testing::RuleDriver;
using txflag::v1::INCOMING;
using txflag::v1::OUTGOING;
using txflag::v1::Payment;

// As in the default pack: 30 days, 3 payments, at most 3,000 DKK each.
txflag::v1::Rule Config() {
  txflag::v1::Rule rule;
  rule.set_id("ad_payments");
  rule.add_typology("SE");
  auto* c = rule.mutable_ad_payments();
  for (const char* name :
       {"eroguide", "eroguide.dk", "annoncelight", "annoncelight.dk",
        "escortguide", "escortguide.dk", "eb.dk", "Ekstra Bladet annoncer",
        "sexguide", "massagepiger"}) {
    c->add_watchlist_name(name);
  }
  c->add_watchlist_account("DK5000400440116243");
  return rule;
}

RuleDriver Driver(const txflag::v1::Rule& config) {
  auto rule = MakeRule(config, 2, "DKK");
  EXPECT_TRUE(rule.ok()) << rule.status();
  return RuleDriver(std::move(rule).value());
}

Pay Ad(std::string id, int64_t ts, std::string creditor_name,
       int64_t amount = 29900, uint32_t mcc = 0, std::string creditor = "") {
  return {.id = std::move(id),
          .ts = ts,
          .debtor = "ME",
          .creditor = std::move(creditor),
          .creditor_name = std::move(creditor_name),
          .amount = amount,
          .channel = mcc ? Payment::CARD : Payment::TRANSFER,
          .mcc = mcc};
}

TEST(AdPaymentsRule, FlagsRepeatedSmallPaymentsToSexAdSites) {
  RuleDriver d = Driver(Config());
  EXPECT_FALSE(d.Feed(Ad("a1", At(0, 23), "EROGUIDE.DK"), OUTGOING));
  EXPECT_FALSE(d.Feed(Ad("a2", At(6, 1), "Eroguide ApS"), OUTGOING));
  auto hit = d.Feed(Ad("a3", At(13, 2), "Escortguide.dk", 49900), OUTGOING);
  ASSERT_TRUE(hit.has_value());
  EXPECT_THAT(hit->payment_ids, ::testing::ElementsAre("a1", "a2", "a3"));
  EXPECT_EQ(hit->aggregate("ad_payments")->value(), 3);
  EXPECT_EQ(hit->aggregate("ad_payments")->threshold(), 3);
  EXPECT_EQ(hit->aggregate("watchlisted_payments")->value(), 3);
  EXPECT_DOUBLE_EQ(hit->aggregate("total")->value(), 299 + 299 + 499);
  EXPECT_DOUBLE_EQ(hit->strength, 1.0);
  EXPECT_EQ(hit->explanation,
            "Paid 3 ad payments (each at most 3,000.00 DKK) within 30 days, "
            "1,097.00 DKK in all; 3 of them to payees on the sex-ad / escort "
            "site watchlist.");
}

TEST(AdPaymentsRule, WatchlistedAccountCountsWithoutAName) {
  RuleDriver d = Driver(Config());
  for (int i = 0; i < 3; ++i) {
    d.Feed(Ad("b" + std::to_string(i), At(i, 22), "", 20000, 0,
              "DK5000400440116243"),
           OUTGOING);
  }
  EXPECT_EQ(d.hits(), 1);
}

TEST(AdPaymentsRule, TwoWatchlistedPaymentsPlusAdMccFires) {
  RuleDriver d = Driver(Config());
  d.Feed(Ad("c1", At(0, 10), "Annoncelight.dk"), OUTGOING);
  d.Feed(Ad("c2", At(1, 10), "ADVERTISING AGENCY X", 15000, 7311), OUTGOING);
  auto hit = d.Feed(Ad("c3", At(2, 10), "EROGUIDE.DK", 15000, 7311), OUTGOING);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->aggregate("watchlisted_payments")->value(), 2);
  EXPECT_EQ(hit->aggregate("watchlisted_payments")->threshold(), 2);
  EXPECT_THAT(hit->explanation, HasSubstr("2 of them to payees"));
  // 3 payments (1x min_payments), 2 watchlisted (1x): the base score.
  EXPECT_DOUBLE_EQ(hit->strength, 1.0);
}

TEST(AdPaymentsRule, StrengthIsCappedByTheWatchlistedPayments) {
  RuleDriver d = Driver(Config());
  std::optional<testing::Fired> hit;
  // Nine MCC 7311 ads and two watchlisted ones: 11/3 payments but only
  // 2/2 watchlisted, so the strength stays 1.
  for (int i = 0; i < 9; ++i) {
    d.Feed(Ad("g" + std::to_string(i), At(i, 10), "GOOGLE ADS", 50000, 7311),
           OUTGOING);
  }
  d.Feed(Ad("e1", At(10, 10), "EB.DK", 50000, 7311), OUTGOING);
  hit = d.Feed(Ad("e2", At(11, 10), "EB.DK", 50000, 7311), OUTGOING);
  ASSERT_TRUE(hit.has_value());
  EXPECT_DOUBLE_EQ(hit->strength, 1.0);
}

TEST(AdPaymentsRule, LeavesAShopWithOneEkstraBladetAdBesidesMetaAds) {
  // Seen in the generated population: weekly Meta ads (MCC 7311) and one ad
  // at Ekstra Bladet. One watchlisted payment is below
  // min_watchlist_payments (2).
  RuleDriver d = Driver(Config());
  std::vector<Pay> pays;
  for (int w = 0; w < 4; ++w) {
    pays.push_back(
        Ad("m" + std::to_string(w), At(w * 7, 11), "META ADS", 130000, 7311));
  }
  pays.push_back(Ad("eb", At(16, 12), "Ekstra Bladet annoncer", 249900, 7311));
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
}

TEST(AdPaymentsRule, SetsTheWatchlistFlagOnlyForWatchlistedPayees) {
  auto rule = MakeRule(Config(), 2);
  ASSERT_TRUE(rule.ok());
  txflag::v1::Payment p = testing::ToPayment(Ad("f", At(0, 0), "eb.dk"));
  Leg leg = testing::ToLeg(Ad("f", At(0, 0), "eb.dk"), OUTGOING);
  ASSERT_TRUE((*rule)->Accepts(p, &leg));
  EXPECT_TRUE(leg.flags & AdPaymentsRule::kWatchlistFlag);

  Pay google = Ad("g", At(0, 0), "GOOGLE ADS", 5000, 7311);
  p = testing::ToPayment(google);
  leg = testing::ToLeg(google, OUTGOING);
  leg.flags = AdPaymentsRule::kWatchlistFlag;  // stale bit is cleared
  ASSERT_TRUE((*rule)->Accepts(p, &leg));
  EXPECT_FALSE(leg.flags & AdPaymentsRule::kWatchlistFlag);
}

TEST(AdPaymentsRule, LeavesShopBuyingAdsFromGoogleAndMeta) {
  RuleDriver d = Driver(Config());
  // Weekly small boosts on Google and Meta: MCC 7311 only, no watchlist.
  std::vector<Pay> pays;
  for (int i = 0; i < 12; ++i) {
    pays.push_back(Ad("g" + std::to_string(i), At(i * 3, 9),
                      i % 2 ? "GOOGLE *ADS" : "FACEBK *ADS", 50000, 7311));
  }
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
  EXPECT_GE(d.window().size(), 3u);  // counted, but never watchlisted
}

TEST(AdPaymentsRule, LeavesMonthlyCampaignsEvenAtEkstraBladet) {
  RuleDriver d = Driver(Config());
  // A furniture shop's monthly campaign: 4,500-12,000 DKK, once a month.
  std::vector<Pay> pays;
  for (int m = 0; m < 6; ++m) {
    pays.push_back(Ad("eb" + std::to_string(m), At(m * 30, 10),
                      "EKSTRA BLADET ANNONCER A/S", 450000 + m * 150000));
    pays.push_back(Ad("gg" + std::to_string(m), At(m * 30 + 1, 10),
                      "GOOGLE ADS", 300000, 7311));
  }
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
}

TEST(AdPaymentsRule, LeavesOccasionalSmallAdAtEkstraBladet) {
  RuleDriver d = Driver(Config());
  // A private classified ad (selling a sofa) twice in a month: under 3.
  EXPECT_FALSE(d.Feed(Ad("s1", At(0, 10), "eb.dk", 9900), OUTGOING));
  EXPECT_FALSE(d.Feed(Ad("s2", At(20, 10), "eb.dk", 9900), OUTGOING));
  // The third comes 31 days after the first: the first has left the window.
  EXPECT_FALSE(d.Feed(Ad("s3", At(31, 10), "eb.dk", 9900), OUTGOING));
}

TEST(AdPaymentsRule, IgnoresLookalikeNamesAndIncomingPayments) {
  RuleDriver d = Driver(Config());
  bool accepted = true;
  d.Feed(Ad("w", At(0, 0), "Webdk Shop"), OUTGOING, &accepted);
  EXPECT_FALSE(accepted);
  Pay refund = Ad("r", At(0, 0), "EROGUIDE.DK");
  d.Feed(refund, INCOMING, &accepted);
  EXPECT_FALSE(accepted);
}

TEST(AdPaymentsRule, RequireWatchlistFalseLetsMccAloneFire) {
  txflag::v1::Rule config = Config();
  config.mutable_ad_payments()->set_require_watchlist(false);
  config.mutable_ad_payments()->set_max_amount(0);  // no cap
  RuleDriver d = Driver(config);
  for (int i = 0; i < 3; ++i) {
    d.Feed(Ad("m" + std::to_string(i), At(i, 9), "GOOGLE ADS", 900000, 7311),
           OUTGOING);
  }
  EXPECT_EQ(d.hits(), 1);
  EXPECT_THAT(d.last()->explanation, ::testing::Not(HasSubstr("at most")));
}

TEST(AdPaymentsRule, CustomMccListReplacesTheDefault) {
  txflag::v1::Rule config = Config();
  config.mutable_ad_payments()->add_mcc(7399);
  RuleDriver d = Driver(config);
  bool accepted = true;
  d.Feed(Ad("x", At(0, 0), "GOOGLE ADS", 1000, 7311), OUTGOING, &accepted);
  EXPECT_FALSE(accepted);
  d.Feed(Ad("y", At(0, 0), "SOME SERVICE", 1000, 7399), OUTGOING, &accepted);
  EXPECT_TRUE(accepted);
}

}  // namespace
}  // namespace txflag::rules
