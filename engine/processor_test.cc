#include "engine/processor.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/time_util.h"
#include "engine/driver.h"
#include "engine/memory.h"
#include "engine/testing/count_rule.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using txflag::v1::Alert;
using txflag::v1::Payment;

SourceRecord Pay(const std::string& id, const std::string& ts,
                 const std::string& debtor, const std::string& creditor,
                 int64_t minor = 10000, const std::string& currency = "DKK") {
  SourceRecord r;
  r.location = "test.csv:" + id;
  Payment& p = r.payment;
  p.set_id(id);
  p.mutable_timestamp()->set_seconds(*ParseUtcTimestamp(ts));
  p.set_debtor_account(debtor);
  p.set_creditor_account(creditor);
  p.set_amount_minor(minor);
  p.set_currency(currency);
  p.set_channel(Payment::MOBILE);
  return r;
}

struct RunResult {
  std::vector<Alert> alerts;  // final revisions, by id
  Processor::Stats stats;
  std::vector<MemoryRejectSink::Row> rejects;
};

RunResult RunAll(const rules::CompiledPack& pack,
                 std::vector<SourceRecord> records,
                 Processor::Options options = {}) {
  MemoryStateStore store;
  MemoryRejectSink rejects;
  auto processor = Processor::Open(&pack, options, &store, &rejects, nullptr);
  EXPECT_TRUE(processor.ok()) << processor.status();
  VectorSource source(std::move(records));
  EXPECT_TRUE(RunToEnd(&source, processor->get(), {}).ok());
  RunResult run;
  EXPECT_TRUE(
      (*processor)
          ->ForEachAlert([&](const Alert& a) { run.alerts.push_back(a); })
          .ok());
  run.stats = (*processor)->stats();
  run.rejects = rejects.rows();
  return run;
}

std::vector<SourceRecord> FanIn(const std::string& to, int n,
                                const std::string& day = "2024-05-01") {
  std::vector<SourceRecord> records;
  for (int i = 0; i < n; ++i) {
    char ts[32];
    std::snprintf(ts, sizeof(ts), "%sT%02d:00:00Z", day.c_str(), 8 + i);
    records.push_back(Pay(to + "-p" + std::to_string(i) + "-" + day, ts,
                          "payer" + std::to_string(i), to));
  }
  return records;
}

TEST(Processor, JudgesEachAccountOnItsOwnSideOfThePayment) {
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records;
  // "hub" receives 3 payments (fan_in) and "spender" sends 4 (fan_out).
  records.push_back(Pay("p1", "2024-05-01T10:00:00Z", "a", "hub"));
  records.push_back(Pay("p2", "2024-05-01T10:01:00Z", "b", "hub"));
  records.push_back(Pay("p3", "2024-05-01T10:02:00Z", "spender", "hub"));
  records.push_back(Pay("p4", "2024-05-01T10:03:00Z", "spender", "x"));
  records.push_back(Pay("p5", "2024-05-01T10:04:00Z", "spender", "y"));
  records.push_back(Pay("p6", "2024-05-01T10:05:00Z", "spender", "z"));
  RunResult run = RunAll(pack, std::move(records));
  ASSERT_EQ(run.alerts.size(), 2u);
  std::map<std::string, Alert> by_account;
  for (const auto& a : run.alerts) by_account[a.account()] = a;
  EXPECT_THAT(by_account["hub"].rules(), ElementsAre("fan_in"));
  EXPECT_THAT(by_account["hub"].evidence().transactions(),
              ElementsAre("p1", "p2", "p3"));
  EXPECT_THAT(by_account["spender"].rules(), ElementsAre("fan_out"));
  EXPECT_THAT(by_account["spender"].evidence().transactions(),
              ElementsAre("p3", "p4", "p5", "p6"));
  EXPECT_EQ(run.stats.payments(), 6);
}

TEST(Processor, ExtendsOneAlertPerAccountAndRuleWithinSuppression) {
  rules::CompiledPack pack = testing::MakeCountPack();
  RunResult run = RunAll(pack, FanIn("victim", 6));
  ASSERT_EQ(run.alerts.size(), 1u);
  const Alert& alert = run.alerts[0];
  EXPECT_EQ(alert.revision(), 4u);  // raised at the 3rd payment, +3 extensions
  EXPECT_EQ(alert.evidence().transactions_size(), 6);
  EXPECT_EQ(alert.evidence().aggregates(0).value(), 6);
  EXPECT_EQ(alert.window_start().seconds(),
            *ParseUtcTimestamp("2024-05-01T08:00:00Z"));
  EXPECT_EQ(alert.window_end().seconds(),
            *ParseUtcTimestamp("2024-05-01T13:00:00Z"));
  EXPECT_EQ(alert.score(), 100);  // 50 * 6/3
  EXPECT_EQ(alert.rule_pack().content_hash(), "sha256:test");
  EXPECT_EQ(run.stats.alerts_raised(), 1);
  EXPECT_EQ(run.stats.alert_revisions(), 4);
}

// An at-least-once upstream delivers some payments twice; each must count
// once in the windows, and raise no revision without new evidence.
TEST(Processor, APaymentDeliveredTwiceCountsOnce) {
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records = FanIn("victim", 2);
  records.push_back(records[0]);  // two copies of p0: fan_in needs 3 legs
  records.push_back(records[1]);
  RunResult run = RunAll(pack, records);
  EXPECT_TRUE(run.alerts.empty());
  // Both sides of both repeats: the payers' fan_out windows keep their legs
  // too.
  EXPECT_EQ(run.stats.repeated_legs(), 4);

  records.push_back(FanIn("victim", 3)[2]);
  records.push_back(records.back());
  int repeats_seen = 0;
  Processor::Options options;
  options.on_repeated_leg = [&] { ++repeats_seen; };
  run = RunAll(pack, records, options);
  ASSERT_EQ(run.alerts.size(), 1u);
  EXPECT_EQ(run.alerts[0].revision(), 1u);
  EXPECT_EQ(run.alerts[0].evidence().aggregates(0).value(), 3);
  EXPECT_EQ(run.stats.repeated_legs(), 6);
  EXPECT_EQ(repeats_seen, 6);
}

TEST(Processor, ARepeatIsRecognisedAfterARestart) {
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records = FanIn("victim", 2);
  MemoryStateStore store;
  MemoryRejectSink rejects;
  {
    auto processor = *Processor::Open(&pack, {}, &store, &rejects, nullptr);
    for (auto r : records) ASSERT_TRUE(processor->Process(&r).ok());
    ASSERT_TRUE(processor->Drain().ok());
    ASSERT_TRUE(processor->Commit("2").ok());
  }
  auto processor = *Processor::Open(&pack, {}, &store, &rejects, nullptr);
  SourceRecord again = records[1];
  ASSERT_TRUE(processor->Process(&again).ok());
  ASSERT_TRUE(processor->Drain().ok());
  EXPECT_EQ(processor->stats().repeated_legs(), 2);
  std::vector<Alert> alerts;
  ASSERT_TRUE(
      processor->ForEachAlert([&](const Alert& a) { alerts.push_back(a); })
          .ok());
  EXPECT_TRUE(alerts.empty());
}

TEST(Processor, AReusedIdWithOtherContentIsNotARepeat) {
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records = FanIn("victim", 2);
  // Same id and time as p1 but another amount, and another payer: both are
  // other payments as far as the engine can tell, and count.
  SourceRecord other_amount = records[1];
  other_amount.payment.set_amount_minor(records[1].payment.amount_minor() + 1);
  SourceRecord other_payer = records[1];
  other_payer.payment.set_debtor_account("someone-else");
  records.push_back(other_amount);
  records.push_back(other_payer);
  RunResult run = RunAll(pack, records);
  ASSERT_EQ(run.alerts.size(), 1u);
  EXPECT_EQ(run.alerts[0].evidence().aggregates(0).value(), 4);
  EXPECT_EQ(run.stats.repeated_legs(), 0);
}

TEST(Processor, RaisesANewAlertAfterTheSuppressionPeriod) {
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records = FanIn("victim", 3, "2024-05-01");
  for (auto& r : FanIn("victim", 3, "2024-06-15")) records.push_back(r);
  RunResult run = RunAll(pack, std::move(records));
  ASSERT_EQ(run.alerts.size(), 2u);
  EXPECT_NE(run.alerts[0].alert_id(), run.alerts[1].alert_id());
  EXPECT_EQ(run.alerts[0].revision(), 1u);
  EXPECT_EQ(run.alerts[1].revision(), 1u);
}

TEST(Processor, AlertIdsDependOnlyOnInputAndPack) {
  rules::CompiledPack pack = testing::MakeCountPack();
  RunResult a = RunAll(pack, FanIn("victim", 4));
  RunResult b = RunAll(pack, FanIn("victim", 4));
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_EQ(a.alerts[0].alert_id(), b.alerts[0].alert_id());
  EXPECT_THAT(a.alerts[0].alert_id(), HasSubstr("TXA-"));
  rules::CompiledPack other = testing::MakeCountPack("sha256:other");
  RunResult c = RunAll(other, FanIn("victim", 4));
  EXPECT_NE(a.alerts[0].alert_id(), c.alerts[0].alert_id());
}

TEST(Processor, ProcessesInEventTimeOrderWithinAllowedLateness) {
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records;
  records.push_back(Pay("late1", "2024-05-01T10:30:00Z", "a", "hub"));
  records.push_back(Pay("early", "2024-05-01T10:00:00Z", "b", "hub"));
  records.push_back(Pay("mid", "2024-05-01T10:10:00Z", "c", "hub"));
  // 2 hours behind the newest (10:30): beyond the 1 hour default.
  records.push_back(Pay("toolate", "2024-05-01T08:29:00Z", "d", "hub"));
  RunResult run = RunAll(pack, std::move(records));
  ASSERT_EQ(run.alerts.size(), 1u);
  EXPECT_THAT(run.alerts[0].evidence().transactions(),
              ElementsAre("early", "mid", "late1"));
  EXPECT_EQ(run.stats.late(), 1);
  ASSERT_EQ(run.rejects.size(), 1u);
  EXPECT_EQ(run.rejects[0].location, "test.csv:toolate");
  EXPECT_THAT(run.rejects[0].reason, HasSubstr("allowed lateness"));
  EXPECT_THAT(run.rejects[0].raw, HasSubstr("toolate"));
}

TEST(Processor, ZeroLatenessRejectsAnyPaymentOlderThanTheNewest) {
  rules::CompiledPack pack = testing::MakeCountPack();
  Processor::Options options;
  options.allowed_lateness_seconds = 0;
  std::vector<SourceRecord> records;
  records.push_back(Pay("p1", "2024-05-01T10:30:00Z", "a", "hub"));
  records.push_back(Pay("p2", "2024-05-01T10:30:00Z", "b", "hub"));
  records.push_back(Pay("p3", "2024-05-01T10:29:59Z", "c", "hub"));
  RunResult run = RunAll(pack, std::move(records), options);
  EXPECT_EQ(run.stats.late(), 1);
  EXPECT_EQ(run.stats.payments(), 2);
}

TEST(Processor, RejectsCurrenciesWithoutARateAndKeepsGoing) {
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records = FanIn("victim", 3);
  records.push_back(Pay("sek", "2024-05-01T23:00:00Z", "a", "b", 100, "SEK"));
  SourceRecord bad;
  bad.kind = SourceRecord::Kind::kReject;
  bad.location = "in.csv:9";
  bad.reason = "field 'amount': negative";
  bad.raw = "x,y,z";
  records.push_back(bad);
  RunResult run = RunAll(pack, std::move(records));
  // The malformed record is rejected on arrival; the SEK payment when the
  // watermark releases it from the reorder buffer.
  ASSERT_EQ(run.rejects.size(), 2u);
  EXPECT_EQ(run.rejects[0].location, "in.csv:9");
  EXPECT_EQ(run.rejects[0].raw, "x,y,z");
  EXPECT_EQ(run.rejects[1].location, "test.csv:sek");
  EXPECT_THAT(run.rejects[1].reason,
              HasSubstr("no exchange rate for currency 'SEK'"));
  EXPECT_EQ(run.stats.rejected(), 2);
  EXPECT_EQ(run.stats.records(), 5);
  EXPECT_EQ(run.alerts.size(), 1u);
}

// A Kafka source leaves SourceRecord::location empty and gives the stream
// (partition) and position (offset): every reject is still named, on
// arrival (malformed, late) and on release (no exchange rate), out of the
// reorder buffer's lanes and heap alike.
TEST(Processor, NamesRejectsFromStreamAndPositionWhenTheSourceGaveNoLocation) {
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  Processor::Options options;
  options.allowed_lateness_seconds = 0;
  options.streams = 2;
  options.locate = [](int32_t stream, int64_t position) {
    return "payments/" + std::to_string(stream) + "@" +
           std::to_string(position);
  };
  auto processor = *Processor::Open(&pack, options, &store, &rejects, nullptr);
  auto give = [&](SourceRecord r, int32_t stream, int64_t position) {
    r.location.clear();
    r.stream = stream;
    r.position = position;
    ASSERT_TRUE(processor->Process(&r).ok());
  };
  SourceRecord bad;
  bad.kind = SourceRecord::Kind::kReject;
  bad.reason = "not a txflag.v1.Payment in protobuf binary";
  give(bad, 1, 7);
  give(Pay("a", "2024-05-01T10:00:00Z", "x", "y"), 0, 10);
  // Out of order within stream 0: kept in the buffer's heap.
  give(Pay("sek", "2024-05-01T09:00:00Z", "x", "y", 100, "SEK"), 0, 11);
  give(Pay("b", "2024-05-01T11:00:00Z", "x", "y", 100, "SEK"), 1, 8);
  give(Pay("c", "2024-05-01T12:00:00Z", "x", "y"), 1, 9);
  // The watermark is at 10:00 (stream 0's newest): 08:00 is late.
  give(Pay("late", "2024-05-01T08:00:00Z", "x", "y"), 1, 10);
  ASSERT_TRUE(processor->Drain().ok());
  std::vector<std::string> locations;
  for (const auto& row : rejects.rows()) locations.push_back(row.location);
  EXPECT_THAT(locations,
              ::testing::ElementsAre("payments/1@7", "payments/0@11",
                                     "payments/1@10", "payments/1@8"));
}

TEST(Processor, StrictModeStopsAtTheFirstRejectNamingIt) {
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  Processor::Options options;
  options.strict = true;
  auto processor = *Processor::Open(&pack, options, &store, &rejects, nullptr);
  SourceRecord bad;
  bad.kind = SourceRecord::Kind::kReject;
  bad.location = "in.csv:7";
  bad.reason = "field 'timestamp': bad";
  absl::Status s = processor->Process(&bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("in.csv:7: field 'timestamp'"));
}

TEST(Processor, ConvertsCurrenciesIntoTheBaseCurrency) {
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  auto processor = *Processor::Open(&pack, {}, &store, &rejects, nullptr);
  auto r = Pay("eur", "2024-05-01T10:00:00Z", "a", "b", 10000, "EUR");
  ASSERT_TRUE(processor->Process(&r).ok());
  ASSERT_TRUE(processor->Drain().ok());
  ASSERT_TRUE(processor->Commit("1").ok());
  // The window of b's incoming rule (rule 0) holds one leg of 746.00 DKK;
  // b has no outgoing window (rule 1) and no open alerts.
  auto stored = *store.Get("t0/win/b/0");
  ASSERT_TRUE(stored.has_value());
  EXPECT_FALSE(store.Get("t0/win/b/1")->has_value());
  EXPECT_FALSE(store.Get("t0/open/b")->has_value());
  rules::Window w;
  std::string_view bytes = *stored;
  ASSERT_TRUE(w.DecodeFrom(&bytes).ok());
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w.legs()[0].amount, 74600);
}

TEST(Processor, ForgetsAccountsWhoseWindowsEmptied) {
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  auto processor = *Processor::Open(&pack, {}, &store, &rejects, nullptr);
  auto r1 = Pay("p1", "2024-05-01T10:00:00Z", "a", "b");
  ASSERT_TRUE(processor->Process(&r1).ok());
  ASSERT_TRUE(processor->Drain().ok());
  ASSERT_TRUE(processor->Commit("1").ok());
  EXPECT_TRUE(store.Get("t0/win/a/1")->has_value());
  EXPECT_EQ(processor->active_accounts(), 2u);
  auto r2 = Pay("p2", "2024-05-04T10:00:00Z", "c", "d");
  ASSERT_TRUE(processor->Process(&r2).ok());
  ASSERT_TRUE(processor->Drain().ok());
  ASSERT_TRUE(processor->Commit("2").ok());
  EXPECT_FALSE(store.Get("t0/win/a/1")->has_value());
  EXPECT_FALSE(store.Get("t0/win/b/0")->has_value());
  EXPECT_TRUE(store.Get("t0/win/d/0")->has_value());
  EXPECT_EQ(processor->active_accounts(), 2u);  // c and d
}

TEST(Processor, RefusesStateMadeWithAnotherRulePack) {
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  {
    auto processor = *Processor::Open(&pack, {}, &store, &rejects, nullptr);
    ASSERT_TRUE(processor->Commit("0").ok());
  }
  rules::CompiledPack other = testing::MakeCountPack("sha256:other");
  auto reopened = Processor::Open(&other, {}, &store, &rejects, nullptr);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reopened.status().message(), HasSubstr("--fresh"));
}

TEST(Processor, EmitsEveryRevisionBeforeCommittingTheState) {
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  CollectingAlertSink sink;
  auto processor = *Processor::Open(&pack, {}, &store, &rejects, &sink);
  VectorSource source(FanIn("victim", 5));
  ASSERT_TRUE(RunToEnd(&source, processor.get(), {}).ok());
  ASSERT_EQ(sink.emitted().size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.emitted()[i].revision(), static_cast<uint32_t>(i + 1));
    EXPECT_EQ(sink.emitted()[i].alert_id(), sink.emitted()[0].alert_id());
  }
  EXPECT_GE(sink.flushes(), 1);
}

// A run "crashes" after committing at record k (and processing a few more
// records whose effects are lost), then resumes on the same store: the final
// alerts and counters equal those of an uninterrupted run.
TEST(Processor, ResumesFromAnyCommitWithTheAlertsOfAnUninterruptedRun) {
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records;
  for (const char* day : {"2024-05-01", "2024-05-02", "2024-06-20"}) {
    for (const char* to : {"v1", "v2"}) {
      for (auto& r : FanIn(to, 5, day)) records.push_back(r);
    }
  }
  // Out-of-order rows inside the lateness, and one late row.
  records.push_back(Pay("ooo", "2024-06-20T12:30:00Z", "q", "v1"));
  records.push_back(Pay("ooo2", "2024-06-20T12:10:00Z", "r", "v1"));
  records.push_back(Pay("old", "2024-06-20T09:00:00Z", "s", "v1"));
  records.push_back(Pay("end", "2024-06-21T12:00:00Z", "t", "v2"));
  RunResult expected = RunAll(pack, records);

  for (size_t k = 0; k <= records.size(); k += 3) {
    MemoryStateStore store;
    MemoryRejectSink rejects;
    {
      auto processor = *Processor::Open(&pack, {}, &store, &rejects, nullptr);
      VectorSource source(records);
      SourceRecord record;
      for (size_t i = 0; i < k; ++i) {
        ASSERT_TRUE(*source.Next(&record));
        ASSERT_TRUE(processor->Process(&record).ok());
      }
      ASSERT_TRUE(processor->Commit(source.Checkpoint()).ok());
      for (size_t i = k; i < std::min(records.size(), k + 2); ++i) {
        ASSERT_TRUE(*source.Next(&record));
        ASSERT_TRUE(processor->Process(&record).ok());
      }
    }  // crash: uncommitted work is lost
    auto processor = *Processor::Open(&pack, {}, &store, &rejects, nullptr);
    VectorSource source(records);
    ASSERT_TRUE(RunToEnd(&source, processor.get(), {}).ok());
    std::vector<Alert> alerts;
    ASSERT_TRUE(
        processor->ForEachAlert([&](const Alert& a) { alerts.push_back(a); })
            .ok());
    ASSERT_EQ(alerts.size(), expected.alerts.size()) << "k=" << k;
    for (size_t i = 0; i < alerts.size(); ++i) {
      EXPECT_EQ(alerts[i].SerializeAsString(),
                expected.alerts[i].SerializeAsString())
          << "k=" << k << " alert " << alerts[i].alert_id();
    }
    EXPECT_EQ(processor->stats().SerializeAsString(),
              expected.stats.SerializeAsString())
        << "k=" << k;
    ASSERT_EQ(rejects.rows().size(), expected.rejects.size()) << "k=" << k;
  }
}

TEST(Processor, LegsSplitAcrossTwoProcessorsGiveTheAlertsOfWholePayments) {
  // What Kafka repartitioning does: each payment's debit leg goes to the
  // task owning the debtor, its credit leg to the task owning the creditor,
  // in an arrival order of their own.
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> records;
  for (const char* day : {"2024-05-01", "2024-05-02"}) {
    for (const char* to : {"v1", "v2", "v3"}) {
      for (auto& r : FanIn(to, 5, day)) records.push_back(r);
    }
  }
  // A tie on timestamp into one account, and a self-transfer.
  records.push_back(Pay("tie-b", "2024-05-02T20:00:00Z", "x", "v1"));
  records.push_back(Pay("tie-a", "2024-05-02T20:00:00Z", "y", "v1"));
  records.push_back(Pay("self", "2024-05-02T21:00:00Z", "v2", "v2"));
  Processor::Options options;
  options.allowed_lateness_seconds = 10 * 86400;
  RunResult expected = RunAll(pack, records, options);
  ASSERT_EQ(expected.rejects.size(), 0u);
  ASSERT_GE(expected.alerts.size(), 3u);

  auto task_of = [](const std::string& account) {
    return account == "v1" || account == "payer0" ? 0 : 1;
  };
  std::vector<SourceRecord> tasks[2];
  for (const SourceRecord& r : records) {
    SourceRecord debit = r, credit = r;
    debit.legs = Legs::kDebit;
    credit.legs = Legs::kCredit;
    tasks[task_of(r.payment.debtor_account())].push_back(debit);
    tasks[task_of(r.payment.creditor_account())].push_back(credit);
  }
  std::reverse(tasks[0].begin(), tasks[0].end());  // another arrival order
  std::map<std::string, std::string> got;
  for (auto& task : tasks) {
    RunResult run = RunAll(pack, task, options);
    for (const Alert& a : run.alerts) got[a.alert_id()] = a.SerializeAsString();
  }
  ASSERT_EQ(got.size(), expected.alerts.size());
  for (const Alert& a : expected.alerts) {
    EXPECT_EQ(got[a.alert_id()], a.SerializeAsString()) << a.alert_id();
  }
}

// Payment "p<n>" from "payer<n>" to "victim", n minutes after midnight on
// 2024-05-01 (n < 1440).
SourceRecord PayAtMinute(int64_t n) {
  char ts[48];
  std::snprintf(ts, sizeof(ts), "2024-05-01T%02lld:%02lld:00Z",
                static_cast<long long>(n / 60), static_cast<long long>(n % 60));
  return Pay("p" + std::to_string(n), ts, "payer" + std::to_string(n),
             "victim");
}

TEST(Processor, KeepsEachBufferedPaymentUnderItsOwnKeyNotInTheCheckpoint) {
  // An hour of a busy feed waits in the reorder buffer; a checkpoint value
  // holding all of it outgrew Kafka's message size on the changelog.
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  Processor::Options options;
  options.allowed_lateness_seconds = 3600;
  auto processor = *Processor::Open(&pack, options, &store, &rejects, nullptr);
  auto count_buf_keys = [&] {
    size_t n = 0;
    for (const auto& [key, value] : store.data()) {
      if (key.starts_with("t0/buf/")) ++n;
    }
    return n;
  };
  auto checkpoint_bytes = [&] {
    return store.data().at("t0/meta/checkpoint").size();
  };
  int64_t n = 0;
  auto feed = [&](int minutes) {
    for (int i = 0; i < minutes; ++i, ++n) {
      SourceRecord r = PayAtMinute(n);
      ASSERT_TRUE(processor->Process(&r).ok());
    }
  };
  feed(50);  // all within the hour: all buffered
  ASSERT_TRUE(processor->Commit("c1").ok());
  EXPECT_EQ(processor->buffered(), 50u);
  EXPECT_EQ(count_buf_keys(), 50u);
  const size_t small = checkpoint_bytes();
  feed(100);  // the first ~90 are released
  ASSERT_TRUE(processor->Commit("c2").ok());
  EXPECT_EQ(count_buf_keys(), processor->buffered());
  EXPECT_LT(processor->buffered(), 70u);
  EXPECT_LE(checkpoint_bytes(), small + 16);  // does not grow with the buffer

  // A restart finds the same buffer and ends with the same alerts.
  auto reopened = *Processor::Open(&pack, options, &store, &rejects, nullptr);
  EXPECT_EQ(reopened->buffered(), processor->buffered());
  ASSERT_TRUE(reopened->Drain().ok());
  ASSERT_TRUE(processor->Drain().ok());
  ASSERT_TRUE(reopened->Commit("c3").ok());
  EXPECT_EQ(count_buf_keys(), 0u);
  EXPECT_EQ(reopened->stats().payments(), processor->stats().payments());
}

TEST(Processor, ReadsBufferedPaymentsOfFormat3AndRefusesCorruptOnes) {
  // Format 4 stores a buffered payment as a 0 byte and the reorder buffer's
  // encoding; format 3 stored a BufferedPayment protobuf. A format 3 state
  // dir must resume with the same buffer and alerts.
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  Processor::Options options;
  options.allowed_lateness_seconds = 3600;
  auto processor = *Processor::Open(&pack, options, &store, &rejects, nullptr);
  std::vector<SourceRecord> fed;
  for (int i = 0; i < 50; ++i) {
    fed.push_back(PayAtMinute(i));
    SourceRecord copy = fed.back();
    ASSERT_TRUE(processor->Process(&copy).ok());
  }
  ASSERT_TRUE(processor->Commit("c1").ok());
  ASSERT_EQ(processor->buffered(), 50u);

  // Rewrite the state as format 3 would have: a protobuf per buffered
  // payment (keys in arrival order, as fed), and the version.
  StateBatch as_format3;
  size_t i = 0;
  for (const auto& [key, value] : store.data()) {
    if (!key.starts_with("t0/buf/")) continue;
    ASSERT_FALSE(value.empty());
    EXPECT_EQ(value[0], '\0') << key;
    txflag::v1::state::BufferedPayment buffered;
    *buffered.mutable_payment() = fed[i].payment;
    buffered.set_location(fed[i].location);
    buffered.set_seq(std::stoll(key.substr(key.rfind('/') + 1)));
    buffered.set_legs(static_cast<uint32_t>(Legs::kBoth));
    as_format3.Put(key, buffered.SerializeAsString());
    ++i;
  }
  ASSERT_EQ(i, 50u);
  txflag::v1::state::Checkpoint checkpoint;
  ASSERT_TRUE(
      checkpoint.ParseFromString(store.data().at("t0/meta/checkpoint")));
  EXPECT_EQ(checkpoint.format_version(), 4u);
  checkpoint.set_format_version(3);
  as_format3.Put("t0/meta/checkpoint", checkpoint.SerializeAsString());
  MemoryStateStore format3 = store;
  ASSERT_TRUE(format3.Write(as_format3).ok());

  auto reopened = *Processor::Open(&pack, options, &format3, &rejects, nullptr);
  EXPECT_EQ(reopened->buffered(), 50u);
  ASSERT_TRUE(reopened->Drain().ok());
  ASSERT_TRUE(reopened->Commit("c2").ok());
  ASSERT_TRUE(processor->Drain().ok());
  ASSERT_TRUE(processor->Commit("c2").ok());
  std::vector<std::string> want, got;
  ASSERT_TRUE(processor
                  ->ForEachAlert([&](const Alert& a) {
                    want.push_back(a.SerializeAsString());
                  })
                  .ok());
  ASSERT_TRUE(reopened
                  ->ForEachAlert([&](const Alert& a) {
                    got.push_back(a.SerializeAsString());
                  })
                  .ok());
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(got, want);

  // A format 4 value cut short is DataLoss naming the key, not a crash.
  MemoryStateStore corrupt;
  auto writer = *Processor::Open(&pack, options, &corrupt, &rejects, nullptr);
  SourceRecord one = fed[0];
  ASSERT_TRUE(writer->Process(&one).ok());
  ASSERT_TRUE(writer->Commit("c1").ok());
  StateBatch cut;
  for (const auto& [key, value] : corrupt.data()) {
    if (key.starts_with("t0/buf/")) cut.Put(key, value.substr(0, 20));
  }
  ASSERT_EQ(cut.count(), 1u);
  ASSERT_TRUE(corrupt.Write(cut).ok());
  auto refused = Processor::Open(&pack, options, &corrupt, &rejects, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.status().message(), HasSubstr("t0/buf/"));
}

TEST(Processor, OneStreamRunningAheadWaitsForTheOthersInsteadOfMakingThemLate) {
  // Two streams (two stage-1 processes) a day apart in event time; within a
  // stream the disorder (4 h: v2's morning after v1's) is inside the 5 h
  // lateness. Single-stream, the late stream's payments would be late.
  rules::CompiledPack pack = testing::MakeCountPack();
  std::vector<SourceRecord> day1, day2;
  for (auto& r : FanIn("v1", 5, "2024-05-01")) day1.push_back(r);
  for (auto& r : FanIn("v2", 5, "2024-05-01")) day1.push_back(r);
  for (auto& r : FanIn("v1", 5, "2024-05-02")) day2.push_back(r);
  for (auto& r : FanIn("v2", 5, "2024-05-02")) day2.push_back(r);
  std::vector<SourceRecord> in_order = day1;
  in_order.insert(in_order.end(), day2.begin(), day2.end());
  Processor::Options whole;
  whole.allowed_lateness_seconds = 36 * 3600;  // nothing late
  RunResult expected = RunAll(pack, in_order, whole);
  ASSERT_GE(expected.alerts.size(), 2u);

  // Stream 0 brings day 2 first, stream 1 then brings day 1.
  std::vector<SourceRecord> arrival;
  for (SourceRecord r : day2) {
    r.stream = 0;
    arrival.push_back(r);
  }
  for (SourceRecord r : day1) {
    r.stream = 1;
    arrival.push_back(r);
  }
  Processor::Options streams;
  streams.allowed_lateness_seconds = 5 * 3600;
  streams.streams = 2;
  RunResult run = RunAll(pack, arrival, streams);
  EXPECT_EQ(run.rejects.size(), 0u);
  ASSERT_EQ(run.alerts.size(), expected.alerts.size());
  for (size_t i = 0; i < run.alerts.size(); ++i) {
    EXPECT_EQ(run.alerts[i].SerializeAsString(),
              expected.alerts[i].SerializeAsString());
  }
  // Single-stream, the same arrival order makes day 1 late.
  Processor::Options single;
  single.allowed_lateness_seconds = 5 * 3600;
  EXPECT_EQ(RunAll(pack, arrival, single).rejects.size(), day1.size());
}

TEST(Processor, AStreamNeverSeenHoldsTheWatermarkUntilMarkedIdle) {
  rules::CompiledPack pack = testing::MakeCountPack();
  MemoryStateStore store;
  MemoryRejectSink rejects;
  Processor::Options options;
  options.allowed_lateness_seconds = 0;
  options.streams = 2;
  auto processor = *Processor::Open(&pack, options, &store, &rejects, nullptr);
  for (SourceRecord r : FanIn("v1", 3)) {
    r.stream = 0;
    ASSERT_TRUE(processor->Process(&r).ok());
  }
  EXPECT_EQ(processor->buffered(), 3u);  // stream 1 might bring older ones
  ASSERT_TRUE(processor->SetStreamIdle(1, true).ok());
  EXPECT_EQ(processor->buffered(), 0u);
  // Stream 1 wakes up with a payment behind the released watermark: late.
  SourceRecord old = Pay("old", "2024-05-01T07:00:00Z", "x", "v1");
  old.stream = 1;
  ASSERT_TRUE(processor->Process(&old).ok());
  EXPECT_EQ(rejects.rows().size(), 1u);
  EXPECT_EQ(processor->SetStreamIdle(2, true).code(),
            absl::StatusCode::kInvalidArgument);
}

// The in-process Kafka runner's restart, without a broker: the reorder buffer
// is not stored; the source reads each stream again from its oldest
// buffered position, gives back what is newer than the stored watermark,
// and holds the watermark until it has. Same alerts as without the restart.
TEST(Processor, WithoutPersistBufferWaitingPaymentsAreReadAgain) {
  rules::CompiledPack pack = testing::MakeCountPack();
  Processor::Options options;
  options.allowed_lateness_seconds = 3600;
  options.streams = 2;
  options.persist_buffer = false;
  // Minute n on stream n % 2 at position n / 2; stream 1 runs 40 minutes
  // behind stream 0, so stream 0's newest payments wait for it.
  std::vector<SourceRecord> input[2];
  for (int64_t n = 0; n < 600; ++n) {
    SourceRecord r = PayAtMinute(n);
    r.stream = static_cast<int32_t>(n % 2);
    r.position = n / 2;
    input[n % 2].push_back(r);
  }
  auto feed = [](Processor* p, std::vector<SourceRecord>& records, size_t from,
                 size_t to) {
    for (size_t i = from; i < to; ++i) {
      SourceRecord r = records[i];
      ASSERT_TRUE(p->Process(&r).ok());
    }
  };
  auto alerts_of = [](Processor* p) {
    std::vector<std::string> out;
    EXPECT_TRUE(p->Commit("end").ok());
    EXPECT_TRUE(p->ForEachAlert([&](const Alert& a) {
                   out.push_back(a.DebugString());
                 }).ok());
    return out;
  };

  MemoryStateStore whole_store, store;
  MemoryRejectSink whole_rejects, rejects;
  auto whole =
      *Processor::Open(&pack, options, &whole_store, &whole_rejects, nullptr);
  feed(whole.get(), input[0], 0, 300);
  feed(whole.get(), input[1], 0, 300);
  ASSERT_TRUE(whole->Drain().ok());

  // Stream 0 read up to position 200, stream 1 up to 180; then a commit.
  auto first = *Processor::Open(&pack, options, &store, &rejects, nullptr);
  feed(first.get(), input[0], 0, 200);
  feed(first.get(), input[1], 0, 180);
  ASSERT_GT(first->buffered(), 0u);
  const int64_t from0 = first->OldestBufferedPosition(0);
  const int64_t from1 = first->OldestBufferedPosition(1);
  EXPECT_GT(from0, 0);
  EXPECT_LT(from0, 200);
  const int64_t released = first->released_ts();
  const size_t waiting = first->buffered();
  ASSERT_TRUE(first->Commit("read 200, 180").ok());
  for (const auto& [key, value] : store.data()) {
    EXPECT_FALSE(key.starts_with("t0/buf/")) << key;
  }
  first.reset();  // the crash

  auto second = *Processor::Open(&pack, options, &store, &rejects, nullptr);
  EXPECT_EQ(second->buffered(), 0u);
  EXPECT_EQ(second->released_ts(), released);
  ASSERT_TRUE(second->SetReleaseLimit(released).ok());
  // Reading again: only what is newer than the stored watermark, which is
  // exactly what was waiting.
  size_t again = 0;
  for (int s = 0; s < 2; ++s) {
    const int64_t from = s == 0 ? from0 : from1;
    const size_t until = s == 0 ? 200 : 180;
    for (size_t i = from < 0 ? until : static_cast<size_t>(from); i < until;
         ++i) {
      SourceRecord r = input[s][i];
      if (r.payment.timestamp().seconds() <= released) continue;
      ASSERT_TRUE(second->Process(&r).ok());
      ++again;
    }
  }
  EXPECT_EQ(again, waiting);
  // Stream 1 marked idle would move the watermark: the limit holds it.
  ASSERT_TRUE(second->SetStreamIdle(1, true).ok());
  EXPECT_EQ(second->buffered(), waiting);
  ASSERT_TRUE(second->SetStreamIdle(1, false).ok());
  ASSERT_TRUE(
      second->SetReleaseLimit(std::numeric_limits<int64_t>::max()).ok());
  feed(second.get(), input[0], 200, 300);
  feed(second.get(), input[1], 180, 300);
  ASSERT_TRUE(second->Drain().ok());

  EXPECT_TRUE(rejects.rows().empty());
  const std::vector<std::string> expected = alerts_of(whole.get());
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(alerts_of(second.get()), expected);
}

}  // namespace
}  // namespace txflag::engine
