#include "rules/rent_patterns.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/rule_factory.h"
#include "rules/testing/rule_driver.h"

namespace txflag::rules {
namespace {

using testing::At;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Pay;
using testing::RuleDriver;
using txflag::v1::INCOMING;
using txflag::v1::OUTGOING;
using txflag::v1::Payment;
using Scenario = txflag::v1::RentPatternsRule;

// Proto defaults: 30 days, 4 payments and 8,000 DKK per landlord, 3
// landlords, 3 payers, default keywords and channels.
txflag::v1::Rule Config(txflag::v1::RentPatternsRule::Scenario scenario) {
  txflag::v1::Rule rule;
  rule.set_id("rent");
  rule.add_typology("SE");
  rule.add_typology("FL");
  rule.mutable_rent_patterns()->set_scenario(scenario);
  return rule;
}

RuleDriver Driver(const txflag::v1::Rule& config) {
  auto rule = MakeRule(config, 2, "DKK");
  EXPECT_TRUE(rule.ok()) << rule.status();
  return RuleDriver(std::move(rule).value());
}

Pay Rent(std::string id, int64_t ts, std::string payer, std::string landlord,
         int64_t amount, std::string reference = "Husleje",
         Payment::Channel channel = Payment::TRANSFER) {
  return {.id = std::move(id),
          .ts = ts,
          .debtor = std::move(payer),
          .creditor = std::move(landlord),
          .amount = amount,
          .channel = channel,
          .reference = std::move(reference)};
}

// ---- What makes a payment rent-like ----

TEST(RentPatternsRule, RentLikeNeedsAKeywordWordAndARentChannel) {
  auto rule = MakeRule(Config(Scenario::HIGH_RATE), 2);
  ASSERT_TRUE(rule.ok());
  auto accepts = [&](const Pay& p, txflag::v1::Direction dir) {
    txflag::v1::Payment payment = testing::ToPayment(p);
    Leg leg = testing::ToLeg(p, dir);
    return (*rule)->Accepts(payment, &leg);
  };
  EXPECT_TRUE(accepts(Rent("1", 0, "ME", "L", 1, "Husleje marts"), OUTGOING));
  EXPECT_TRUE(accepts(Rent("2", 0, "ME", "L", 1, "RENT-week 12"), OUTGOING));
  EXPECT_TRUE(
      accepts(Rent("3", 0, "ME", "L", 1, "v\xc3\xa6relse uge 3"), OUTGOING));
  EXPECT_TRUE(
      accepts(Rent("4", 0, "ME", "L", 1, "leje", Payment::MOBILE), OUTGOING));
  EXPECT_TRUE(accepts(
      Rent("5", 0, "ME", "L", 1, "Bolig", Payment::DIRECT_DEBIT), OUTGOING));
  EXPECT_FALSE(accepts(Rent("6", 0, "ME", "L", 1, "parent gift"), OUTGOING));
  EXPECT_FALSE(accepts(Rent("7", 0, "ME", "L", 1, "rental car"), OUTGOING));
  EXPECT_FALSE(
      accepts(Rent("8", 0, "ME", "L", 1, "husleje", Payment::CARD), OUTGOING));
  EXPECT_FALSE(accepts(Rent("9", 0, "ME", "L", 1, "husleje"), INCOMING));
}

TEST(RentPatternsRule, CustomKeywordsReplaceTheDefaults) {
  txflag::v1::Rule config = Config(Scenario::HIGH_RATE);
  config.mutable_rent_patterns()->add_reference_keyword("Miete");
  auto rule = MakeRule(config, 2);
  ASSERT_TRUE(rule.ok());
  Pay miete = Rent("m", 0, "ME", "L", 1, "MIETE Mai");
  Pay husleje = Rent("h", 0, "ME", "L", 1, "husleje");
  txflag::v1::Payment p1 = testing::ToPayment(miete);
  txflag::v1::Payment p2 = testing::ToPayment(husleje);
  Leg l1 = testing::ToLeg(miete, OUTGOING),
      l2 = testing::ToLeg(husleje, OUTGOING);
  EXPECT_TRUE((*rule)->Accepts(p1, &l1));
  EXPECT_FALSE((*rule)->Accepts(p2, &l2));
}

// ---- HIGH_RATE ----

TEST(RentPatternsRule, HighRateFlagsDailyRentFarAboveNormal) {
  RuleDriver d = Driver(Config(Scenario::HIGH_RATE));
  // 900 DKK a day for a room, paid daily: fires once 4 payments reach 8,000
  // DKK, i.e. at the 9th payment.
  std::optional<testing::Fired> first;
  int first_at = -1;
  for (int i = 0; i < 9; ++i) {
    auto hit = d.Feed(Rent("r" + std::to_string(i), At(i, 9), "ME", "LANDLORD",
                           90000, "room"),
                      OUTGOING);
    if (hit && first_at < 0) {
      first_at = i;
      first = hit;
    }
  }
  ASSERT_EQ(first_at, 8);
  EXPECT_EQ(first->payment_ids.size(), 9u);
  EXPECT_EQ(first->aggregate("payments_to_landlord")->value(), 9);
  EXPECT_EQ(first->aggregate("payments_to_landlord")->threshold(), 4);
  EXPECT_DOUBLE_EQ(first->aggregate("total_to_landlord")->value(), 8100);
  EXPECT_DOUBLE_EQ(first->aggregate("total_to_landlord")->threshold(), 8000);
  EXPECT_EQ(first->aggregate("total_to_landlord")->unit(), "DKK");
  EXPECT_EQ(first->explanation,
            "Paid rent-like payments 9 times in 30 days to one landlord, "
            "8,100.00 DKK in all: daily or weekly rent far above a normal "
            "room rent.");
}

TEST(RentPatternsRule, HighRateEvidenceIsOnlyThatLandlordsLegs) {
  RuleDriver d = Driver(Config(Scenario::HIGH_RATE));
  d.Feed(Rent("other", At(0, 8), "ME", "OLD_LANDLORD", 500000), OUTGOING);
  std::optional<testing::Fired> hit;
  for (int w = 0; w < 4; ++w) {
    hit = d.Feed(Rent("wk" + std::to_string(w), At(1 + w * 7, 9), "ME",
                      "LANDLORD", 250000, "RENT week " + std::to_string(w)),
                 OUTGOING);
  }
  ASSERT_TRUE(hit.has_value());  // 4 x 2,500 = 10,000 DKK in 22 days
  EXPECT_THAT(hit->payment_ids, ElementsAre("wk0", "wk1", "wk2", "wk3"));
  EXPECT_DOUBLE_EQ(hit->strength, 1.0);  // min(4/4, 10000/8000)
}

TEST(RentPatternsRule, HighRateLeavesWeeklyCheapRoom) {
  RuleDriver d = Driver(Config(Scenario::HIGH_RATE));
  // A room at 1,000 DKK a week, for 3 months: 4-5 payments, ~4-5,000 DKK.
  std::vector<Pay> pays;
  for (int w = 0; w < 13; ++w) {
    pays.push_back(Rent("w" + std::to_string(w), At(w * 7, 18), "ME", "LL",
                        100000, "Leje uge " + std::to_string(w + 1),
                        Payment::MOBILE));
  }
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
}

TEST(RentPatternsRule, HighRateLeavesNormalMonthlyRent) {
  RuleDriver d = Driver(Config(Scenario::HIGH_RATE));
  std::vector<Pay> pays;
  for (int m = 0; m < 12; ++m) {
    pays.push_back(Rent("m" + std::to_string(m), At(m * 30, 6), "ME", "LL",
                        1250000, "Husleje", Payment::DIRECT_DEBIT));
  }
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
}

// ---- SEVERAL_LANDLORDS ----

TEST(RentPatternsRule, SeveralLandlordsFlagsRentToThreeLandlords) {
  RuleDriver d = Driver(Config(Scenario::SEVERAL_LANDLORDS));
  EXPECT_FALSE(d.Feed(Rent("a", At(0, 9), "ME", "L1", 600000), OUTGOING));
  EXPECT_FALSE(d.Feed(Rent("b", At(3, 9), "ME", "L2", 450000), OUTGOING));
  EXPECT_FALSE(d.Feed(Rent("c", At(4, 9), "ME", "L1", 600000), OUTGOING));
  auto hit = d.Feed(Rent("d", At(10, 9), "ME", "L3", 500000), OUTGOING);
  ASSERT_TRUE(hit.has_value());
  EXPECT_THAT(hit->payment_ids, ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(hit->aggregate("landlords")->value(), 3);
  EXPECT_EQ(hit->aggregate("landlords")->threshold(), 3);
  EXPECT_EQ(hit->aggregate("rent_payments")->value(), 4);
  EXPECT_DOUBLE_EQ(hit->aggregate("total")->value(), 21500);
  EXPECT_EQ(hit->explanation,
            "Paid rent-like payments to 3 distinct landlords, at least "
            "2,500.00 DKK to each, within 30 days (4 payments, 21,500.00 DKK "
            "in all): one payer renting several addresses at once.");
}

TEST(RentPatternsRule, SeveralLandlordsLeavesFriendsChippingInOnRent) {
  RuleDriver d = Driver(Config(Scenario::SEVERAL_LANDLORDS));
  // Own rent, plus a few hundred kroner towards two friends' rent: the
  // friends are not landlords (below min_landlord_total, 2,500 DKK).
  std::vector<Pay> pays = {
      Rent("own", At(0, 9), "ME", "LL", 785400, "Husleje januar"),
      Rent("f1", At(20, 12), "ME", "FRIEND1", 80000, "husleje hjælp",
           Payment::MOBILE),
      Rent("f2", At(21, 12), "ME", "FRIEND2", 35000, "husleje hjælp",
           Payment::MOBILE),
  };
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
}

TEST(RentPatternsRule, SeveralLandlordsLeavesSomeoneMovingHome) {
  RuleDriver d = Driver(Config(Scenario::SEVERAL_LANDLORDS));
  // Last rent to the old landlord, deposit and first rent to the new one,
  // then months of rent to the new one.
  std::vector<Pay> pays = {
      Rent("old", At(0, 9), "ME", "OLD", 750000, "Husleje marts"),
      Rent("dep", At(5, 9), "ME", "NEW", 2250000, "Depositum + husleje"),
      Rent("new1", At(30, 9), "ME", "NEW", 800000, "Husleje maj"),
      Rent("new2", At(60, 9), "ME", "NEW", 800000, "Husleje juni"),
  };
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
}

TEST(RentPatternsRule, SeveralLandlordsForgetsLandlordsOutsideTheWindow) {
  RuleDriver d = Driver(Config(Scenario::SEVERAL_LANDLORDS));
  // Three moves a year: never 3 landlords within 30 days.
  std::vector<Pay> pays = {
      Rent("1", At(0, 9), "ME", "L1", 500000),
      Rent("2", At(20, 9), "ME", "L2", 500000),
      Rent("3", At(50, 9), "ME", "L3", 500000),
  };
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
}

// ---- MANY_PAYERS ----

TEST(RentPatternsRule, ManyPayersFlagsLandlordLettingRoomsByTheDay) {
  RuleDriver d = Driver(Config(Scenario::MANY_PAYERS));
  // Three women each pay 1,000 DKK a night, 10 nights; one ordinary tenant
  // pays monthly rent. Fires once all three have paid 8 times.
  std::vector<Pay> pays;
  for (int day = 0; day < 10; ++day) {
    for (int w = 0; w < 3; ++w) {
      pays.push_back(Rent("n" + std::to_string(day) + "_" + std::to_string(w),
                          At(day, 10, w), "W" + std::to_string(w), "ME", 100000,
                          "leje", Payment::MOBILE));
    }
    if (day == 1) {
      pays.push_back(Rent("tenant", At(day, 11), "TENANT", "ME", 650000));
    }
  }
  int fired = d.FeedAll(pays, INCOMING);
  EXPECT_GT(fired, 0);
  ASSERT_TRUE(d.last().has_value());
  const auto& hit = *d.last();
  EXPECT_EQ(hit.aggregate("high_rate_payers")->value(), 3);
  EXPECT_EQ(hit.aggregate("payers")->value(), 4);
  EXPECT_DOUBLE_EQ(hit.aggregate("total_from_high_rate_payers")->value(),
                   30000);
  EXPECT_EQ(hit.payment_ids.size(), 30u);  // the tenant's rent is not evidence
  EXPECT_THAT(hit.payment_ids, ::testing::Not(::testing::Contains("tenant")));
  EXPECT_THAT(hit.explanation,
              HasSubstr("Received high-rate rent from 3 distinct payers in "
                        "30 days (each at least 4 rent-like payments and "
                        "8,000.00 DKK), 30,000.00 DKK in all"));
}

TEST(RentPatternsRule, ManyPayersLeavesLandlordWithManyMonthlyTenants) {
  RuleDriver d = Driver(Config(Scenario::MANY_PAYERS));
  // A housing association: 200 tenants paying monthly rent for 3 months.
  std::vector<Pay> pays;
  for (int m = 0; m < 3; ++m) {
    for (int t = 0; t < 200; ++t) {
      pays.push_back(Rent("t" + std::to_string(m) + "_" + std::to_string(t),
                          At(m * 30, 8, t / 10), "TENANT" + std::to_string(t),
                          "ME", 700000 + t * 1000, "Husleje",
                          Payment::DIRECT_DEBIT));
    }
  }
  EXPECT_EQ(d.FeedAll(pays, INCOMING), 0);
}

TEST(RentPatternsRule, ManyPayersLeavesTwoHighRatePayers) {
  RuleDriver d = Driver(Config(Scenario::MANY_PAYERS));
  std::vector<Pay> pays;
  for (int day = 0; day < 20; ++day) {
    for (int w = 0; w < 2; ++w) {
      pays.push_back(Rent("x" + std::to_string(day) + std::to_string(w),
                          At(day, 10, w), "W" + std::to_string(w), "ME", 100000,
                          "room"));
    }
  }
  EXPECT_EQ(d.FeedAll(pays, INCOMING), 0);
}

TEST(RentPatternsRule, ManyPayersLeavesWeeklyCheapRooms) {
  RuleDriver d = Driver(Config(Scenario::MANY_PAYERS));
  // A hostel-like landlord: 5 lodgers at 900 DKK a week each.
  std::vector<Pay> pays;
  for (int w = 0; w < 8; ++w) {
    for (int p = 0; p < 5; ++p) {
      pays.push_back(Rent("h" + std::to_string(w) + std::to_string(p),
                          At(w * 7, 12, p), "L" + std::to_string(p), "ME",
                          90000, "logi"));
    }
  }
  EXPECT_EQ(d.FeedAll(pays, INCOMING), 0);
}

}  // namespace
}  // namespace txflag::rules
