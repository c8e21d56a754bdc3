#include "engine/metrics.h"

#include "gtest/gtest.h"

namespace txflag::engine {
namespace {

txflag::v1::Alert MakeAlert(const std::string& account,
                            const std::string& rule) {
  txflag::v1::Alert a;
  a.set_account(account);
  a.add_rules(rule);
  return a;
}

TEST(Metrics, ComputesPrecisionAndRecallPerRuleAndOverall) {
  MetricsAccumulator m({"r1", "r2", "r3"});
  m.Add(MakeAlert("A", "r1"));
  m.Add(MakeAlert("A", "r1"));  // second alert on the same account
  m.Add(MakeAlert("B", "r1"));
  m.Add(MakeAlert("C", "r2"));
  Labels labels;
  labels.positives["A"] = {"SE"};
  labels.positives["C"] = {"FL"};
  labels.positives["D"] = {"SE"};
  BacktestReport r = m.Finish(&labels);
  ASSERT_EQ(r.rules.size(), 3u);
  EXPECT_EQ(r.rules[0].alerts, 3);
  EXPECT_EQ(r.rules[0].alerted_accounts, 2);
  EXPECT_EQ(r.rules[0].true_positives, 1);
  EXPECT_DOUBLE_EQ(r.rules[0].precision, 0.5);
  EXPECT_DOUBLE_EQ(r.rules[0].recall, 1.0 / 3);
  EXPECT_EQ(r.rules[2].alerts, 0);
  EXPECT_EQ(r.overall.alerted_accounts, 3);
  EXPECT_EQ(r.overall.true_positives, 2);
  EXPECT_DOUBLE_EQ(r.overall.recall, 2.0 / 3);
  ASSERT_EQ(r.typologies.size(), 2u);
  EXPECT_EQ(r.typologies[1].typology, "SE");
  EXPECT_EQ(r.typologies[1].labelled_accounts, 2);
  EXPECT_EQ(r.typologies[1].alerted, 1);
}

TEST(Metrics, WithoutLabelsCountsOnly) {
  MetricsAccumulator m({"r1"});
  m.Add(MakeAlert("A", "r1"));
  BacktestReport r = m.Finish(nullptr);
  EXPECT_FALSE(r.labelled);
  EXPECT_EQ(r.overall.alerts, 1);
  EXPECT_EQ(r.overall.true_positives, 0);
}

}  // namespace
}  // namespace txflag::engine
