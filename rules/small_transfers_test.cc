#include "rules/small_transfers.h"

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

// The proto defaults (= the default pack's small_transfers_in): 7 days,
// 100-2,500 DKK, MOBILE/TRANSFER, 15 payments, 10 payers, 4 days, 40% in
// 20:00-06:00.
txflag::v1::Rule Config(txflag::v1::Direction direction = INCOMING) {
  txflag::v1::Rule rule;
  rule.set_id(direction == INCOMING ? "small_transfers_in"
                                    : "small_transfers_out");
  rule.add_typology("SE");
  rule.mutable_small_transfers()->set_direction(direction);
  return rule;
}

RuleDriver Driver(const txflag::v1::Rule& config) {
  auto rule = MakeRule(config, 2, "DKK");
  EXPECT_TRUE(rule.ok()) << rule.status();
  return RuleDriver(std::move(rule).value());
}

// `n` payments to account ME from distinct payers (payer i % payers), one
// every `every_minutes` starting at day 0 `hour`:00, spread over the days.
std::vector<Pay> Buyers(int n, int payers, int days, int hour,
                        int64_t amount = 45000) {
  std::vector<Pay> out;
  for (int i = 0; i < n; ++i) {
    int day = i * days / n;
    out.push_back({.id = "mp" + std::to_string(i),
                   .ts = At(day, hour, i % 60),
                   .debtor = "PAYER" + std::to_string(i % payers),
                   .creditor = "ME",
                   .amount = amount,
                   .channel = Payment::MOBILE});
  }
  return out;
}

TEST(SmallTransfersRule, FlagsManySmallNightPaymentsFromDistinctPayers) {
  RuleDriver d = Driver(Config());
  // 23 payments of 450 DKK from 17 payers on 6 days, at 22:xx.
  std::vector<Pay> pays = Buyers(23, 17, 6, 22);
  int fired = d.FeedAll(pays, INCOMING);
  EXPECT_GT(fired, 0);
  ASSERT_TRUE(d.last().has_value());
  const auto& hit = *d.last();
  EXPECT_EQ(hit.payment_ids.size(), 23u);
  EXPECT_EQ(hit.payment_ids.front(), "mp0");
  EXPECT_EQ(hit.aggregate("payments")->value(), 23);
  EXPECT_EQ(hit.aggregate("payments")->threshold(), 15);
  EXPECT_EQ(hit.aggregate("distinct_payers")->value(), 17);
  EXPECT_EQ(hit.aggregate("distinct_payers")->threshold(), 10);
  EXPECT_EQ(hit.aggregate("active_days")->value(), 6);
  EXPECT_EQ(hit.aggregate("active_days")->unit(), "days");
  EXPECT_DOUBLE_EQ(hit.aggregate("night_share")->value(), 1.0);
  EXPECT_EQ(hit.aggregate("night_share")->unit(), "share");
  EXPECT_DOUBLE_EQ(hit.aggregate("total")->value(), 23 * 450.0);
  EXPECT_EQ(hit.aggregate("total")->unit(), "DKK");
  EXPECT_DOUBLE_EQ(hit.strength, 23.0 / 15.0);
  EXPECT_EQ(hit.explanation,
            "Received 23 payments of 100-2,500 DKK from 17 distinct payers on "
            "6 days within 7 days, 100% of them between 20:00 and 06:00; "
            "10,350.00 DKK in all.");
}

TEST(SmallTransfersRule, FiresExactlyAtTheThresholds) {
  RuleDriver d = Driver(Config());
  // 15 payments, 10 payers, 4 days, 6 of 15 (40%) at night.
  std::vector<Pay> pays;
  for (int i = 0; i < 15; ++i) {
    pays.push_back({.id = "p" + std::to_string(i),
                    .ts = At(i * 4 / 15, i < 9 ? 12 : 23, i),
                    .debtor = "P" + std::to_string(i % 10),
                    .creditor = "ME",
                    .amount = 10000});
  }
  for (int i = 0; i < 14; ++i) EXPECT_FALSE(d.Feed(pays[i], INCOMING));
  auto hit = d.Feed(pays[14], INCOMING);
  ASSERT_TRUE(hit.has_value());
  EXPECT_DOUBLE_EQ(hit->strength, 1.0);
  EXPECT_DOUBLE_EQ(hit->aggregate("night_share")->value(), 0.4);
}

TEST(SmallTransfersRule, AcceptsOnlyDirectionChannelAndAmountRange) {
  RuleDriver d = Driver(Config());
  bool accepted = false;
  Pay p{.id = "x",
        .ts = At(0, 21),
        .debtor = "A",
        .creditor = "ME",
        .amount = 10000};
  d.Feed(p, INCOMING, &accepted);
  EXPECT_TRUE(accepted);  // 100.00 DKK: lower bound included
  p.amount = 250000;
  d.Feed(p, INCOMING, &accepted);
  EXPECT_TRUE(accepted);  // 2,500.00 DKK: upper bound included
  p.amount = 250001;
  d.Feed(p, INCOMING, &accepted);
  EXPECT_FALSE(accepted);
  p.amount = 9999;
  d.Feed(p, INCOMING, &accepted);
  EXPECT_FALSE(accepted);
  p.amount = 50000;
  d.Feed(p, OUTGOING, &accepted);
  EXPECT_FALSE(accepted);
  p.channel = Payment::CARD;
  d.Feed(p, INCOMING, &accepted);
  EXPECT_FALSE(accepted);
  p.channel = Payment::TRANSFER;
  d.Feed(p, INCOMING, &accepted);
  EXPECT_TRUE(accepted);
}

TEST(SmallTransfersRule, LeavesClubTreasurerCollectingFeesOnOneAfternoon) {
  RuleDriver d = Driver(Config());
  // 30 members pay an identical 350 DKK fee between 14:00 and 17:00.
  std::vector<Pay> pays;
  for (int i = 0; i < 30; ++i) {
    pays.push_back({.id = "fee" + std::to_string(i),
                    .ts = At(2, 14 + i / 10, i),
                    .debtor = "MEMBER" + std::to_string(i),
                    .creditor = "TREASURER",
                    .amount = 35000,
                    .reference = "Kontingent 2024"});
  }
  EXPECT_EQ(d.FeedAll(pays, INCOMING), 0);
  EXPECT_EQ(d.window().size(), 30u);  // all counted, none fired
}

TEST(SmallTransfersRule, LeavesClubFeesEvenWhenCollectedInTheEvening) {
  RuleDriver d = Driver(Config());
  // Same 30 fees at an evening meeting (20:00-21:00): still one day.
  EXPECT_EQ(d.FeedAll(Buyers(30, 30, 1, 20), INCOMING), 0);
}

TEST(SmallTransfersRule, LeavesStudentReceivingAFewSmallTransfers) {
  RuleDriver d = Driver(Config());
  // Family and friends: 6 payments from 4 people over a week, some at night.
  EXPECT_EQ(d.FeedAll(Buyers(6, 4, 7, 21, 20000), INCOMING), 0);
}

TEST(SmallTransfersRule, LeavesDaytimeSellerOfManyItems) {
  RuleDriver d = Driver(Config());
  // 25 buyers over 5 days, all around noon: no night share.
  EXPECT_EQ(d.FeedAll(Buyers(25, 25, 5, 12), INCOMING), 0);
}

TEST(SmallTransfersRule, PaymentsOutsideTheWindowDoNotCount) {
  RuleDriver d = Driver(Config());
  // 10 payments a week apart from the next 10: never 15 inside 7 days.
  std::vector<Pay> pays;
  for (int i = 0; i < 20; ++i) {
    int day = (i < 10 ? 0 : 7) + (i % 10) * 5 / 10;  // days 0-4, 7-11
    pays.push_back({.id = "p" + std::to_string(i),
                    .ts = At(day, 23),
                    .debtor = "P" + std::to_string(i),
                    .creditor = "ME",
                    .amount = 30000});
  }
  EXPECT_EQ(d.FeedAll(pays, INCOMING), 0);
  EXPECT_LE(d.window().size(), 10u);
}

TEST(SmallTransfersRule, NightShareZeroDisablesTheCondition) {
  txflag::v1::Rule config = Config();
  config.mutable_small_transfers()->set_min_night_share(0);
  RuleDriver d = Driver(config);
  EXPECT_GT(d.FeedAll(Buyers(25, 25, 5, 12), INCOMING), 0);
  ASSERT_TRUE(d.last().has_value());
  EXPECT_THAT(d.last()->explanation, ::testing::Not(HasSubstr("between")));
}

TEST(SmallTransfersRule, OutgoingNamesPayees) {
  txflag::v1::Rule config = Config(OUTGOING);
  config.mutable_small_transfers()->set_min_payments(25);
  config.mutable_small_transfers()->set_min_counterparties(15);
  RuleDriver d = Driver(config);
  std::vector<Pay> pays;
  for (int i = 0; i < 30; ++i) {
    pays.push_back({.id = "o" + std::to_string(i),
                    .ts = At(i / 6, 23, i),
                    .debtor = "ME",
                    .creditor = "PAYEE" + std::to_string(i % 20),
                    .amount = 20000});
  }
  EXPECT_GT(d.FeedAll(pays, OUTGOING), 0);
  ASSERT_TRUE(d.last().has_value());
  EXPECT_NE(d.last()->aggregate("distinct_payees"), nullptr);
  EXPECT_THAT(d.last()->explanation,
              HasSubstr("Sent 30 payments of 100-2,500 DKK to 20 distinct "
                        "payees"));
}

TEST(SmallTransfersRule, OutgoingLeavesSomeonePayingFriendsBack) {
  txflag::v1::Rule config = Config(OUTGOING);
  config.mutable_small_transfers()->set_min_payments(25);
  config.mutable_small_transfers()->set_min_counterparties(15);
  RuleDriver d = Driver(config);
  // A busy social week: 12 payments to 8 friends, evenings.
  std::vector<Pay> pays;
  for (int i = 0; i < 12; ++i) {
    pays.push_back({.id = "f" + std::to_string(i),
                    .ts = At(i / 2, 21, i),
                    .debtor = "ME",
                    .creditor = "FRIEND" + std::to_string(i % 8),
                    .amount = 15000});
  }
  EXPECT_EQ(d.FeedAll(pays, OUTGOING), 0);
}

TEST(SmallTransfersRule, MakeRuleRejectsAMissingKind) {
  txflag::v1::Rule config;
  config.set_id("x");
  auto rule = MakeRule(config, 2);
  EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(rule.status().message()), HasSubstr("'x'"));
}

TEST(SmallTransfersRule, ThresholdsFollowTheBaseExponent) {
  // JPY has no minor unit: 100 JPY is 100 minor units.
  txflag::v1::Rule config = Config();
  auto rule = MakeRule(config, 0, "JPY");
  ASSERT_TRUE(rule.ok());
  RuleDriver d(std::move(rule).value());
  bool accepted = false;
  d.Feed({.id = "j",
          .ts = At(0, 1),
          .debtor = "A",
          .creditor = "ME",
          .amount = 100},
         INCOMING, &accepted);
  EXPECT_TRUE(accepted);
  d.Feed({.id = "j2",
          .ts = At(0, 1),
          .debtor = "A",
          .creditor = "ME",
          .amount = 2501},
         INCOMING, &accepted);
  EXPECT_FALSE(accepted);
}

}  // namespace
}  // namespace txflag::rules
