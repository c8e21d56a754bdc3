#include "cli/stream_demo.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "connectors/file_source.h"
#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/payment_producer.h"
#include "connectors/kafka/stream_runner.h"
#include "connectors/labels.h"
#include "connectors/rocksdb_store.h"
#include "engine/metrics.h"
#include "engine/metrics_registry.h"
#include "rules/rule_pack.h"

namespace txflag::cli {

namespace kafka = connectors::kafka;
using Clock = std::chrono::steady_clock;

namespace {

// The feeder: the payments file into the input topic, never more than
// max_ahead payments ahead of what the engine has consumed.
absl::Status Feed(const StreamDemoOptions& options, const std::string& servers,
                  const engine::Counter* consumed, std::atomic<bool>* done,
                  std::atomic<int64_t>* sent_out) {
  TXFLAG_ASSIGN_OR_RETURN(
      auto source, connectors::FileSource::Open(options.payments,
                                                connectors::FileFormat::kAuto));
  kafka::PaymentProducerOptions producer_options;
  producer_options.properties = {{"bootstrap.servers", servers}};
  producer_options.topic = "payments";
  TXFLAG_ASSIGN_OR_RETURN(auto producer,
                          kafka::PaymentProducer::Create(producer_options));
  engine::SourceRecord record;
  int64_t sent = 0;
  while (!options.stop->load()) {
    TXFLAG_ASSIGN_OR_RETURN(bool got, source->Next(&record));
    if (!got) break;
    if (record.kind != engine::SourceRecord::Kind::kPayment) continue;
    while (sent - static_cast<int64_t>(consumed->value()) >=
               options.max_ahead &&
           !options.stop->load()) {
      producer->Poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    TXFLAG_RETURN_IF_ERROR(producer->Send(record.payment));
    sent_out->store(++sent, std::memory_order_relaxed);
  }
  absl::Status flushed = producer->Flush();
  done->store(true);
  return flushed;
}

}  // namespace

void PrintStrongestAlerts(std::vector<txflag::v1::Alert> alerts,
                          const std::string& title) {
  std::stable_sort(
      alerts.begin(), alerts.end(),
      [](const auto& a, const auto& b) { return a.score() > b.score(); });
  std::printf("%s\n", title.c_str());
  for (size_t i = 0; i < alerts.size() && i < 5; ++i) {
    const auto& a = alerts[i];
    std::printf("  %s  %s  %s  score %.0f, %d payments as evidence\n    %s\n",
                a.alert_id().c_str(), a.account().c_str(),
                a.rules_size() > 0 ? a.rules(0).c_str() : "", a.score(),
                a.evidence().transactions_size(), a.explanation().c_str());
  }
}

absl::Status RunStreamDemo(const StreamDemoOptions& options) {
  const auto start = Clock::now();
  TXFLAG_ASSIGN_OR_RETURN(rules::CompiledPack pack,
                          rules::LoadRulePackOrDefault(""));
  std::optional<engine::Labels> labels;
  if (!options.labels.empty()) {
    TXFLAG_ASSIGN_OR_RETURN(labels, connectors::ReadLabelsCsv(options.labels));
  }
  TXFLAG_ASSIGN_OR_RETURN(auto cluster, kafka::MockCluster::Start());
  for (const char* topic : {"payments", "alerts", "payments.dlq",
                            "txflag.repartition", "txflag.changelog"}) {
    TXFLAG_RETURN_IF_ERROR(
        cluster->CreateTopic(topic, options.partitions, /*replication=*/3));
  }
  std::printf(
      "txflag demo: Kafka mock cluster (3 brokers) at %s; topics payments, "
      "alerts, payments.dlq, txflag.repartition, txflag.changelog (%d "
      "partitions each)\n",
      cluster->bootstrap_servers().c_str(), options.partitions);
  std::fflush(stdout);

  TXFLAG_RETURN_IF_ERROR(connectors::DestroyState(options.state_dir));
  TXFLAG_ASSIGN_OR_RETURN(
      auto store, connectors::RocksDbStateStore::Open(options.state_dir));

  engine::MetricsRegistry registry;
  std::map<std::string, txflag::v1::Alert> final_revisions;
  int printed = 0;
  kafka::StreamRunnerOptions run;
  run.properties = {{"bootstrap.servers", cluster->bootstrap_servers()}};
  run.pack = &pack;
  run.store = store.get();
  run.stop = options.stop;
  run.metrics = &registry;
  run.exit_when_idle_ms = 1500;
  std::atomic<bool> fed{false};
  run.input_finished = &fed;
  run.on_alert = [&](const txflag::v1::Alert& alert) {
    final_revisions[alert.alert_id()] = alert;
    if (alert.revision() != 1) return;
    if (printed < options.max_printed_alerts) {
      std::printf("  alert %s  %-22s  %-22s  score %5.1f  %s\n",
                  alert.alert_id().c_str(), alert.account().c_str(),
                  alert.rules(0).c_str(), alert.score(),
                  alert.window_end().seconds() > 0
                      ? FormatUtcTimestamp(alert.window_end().seconds())
                            .substr(0, 10)
                            .c_str()
                      : "");
      std::fflush(stdout);
    } else if (printed == options.max_printed_alerts) {
      std::printf("  ... (more alerts: see the summary)\n");
      std::fflush(stdout);
    }
    ++printed;
  };
  // The counter the feeder paces itself by.
  TXFLAG_ASSIGN_OR_RETURN(
      engine::Counter * consumed,
      registry.GetCounter("txflag_input_messages_total",
                          "Messages consumed from the input topic."));
  std::atomic<int64_t> sent{0};
  absl::Status feed_status;
  std::thread feeder([&] {
    feed_status =
        Feed(options, cluster->bootstrap_servers(), consumed, &fed, &sent);
    if (!feed_status.ok()) fed.store(true);
  });
  std::printf(
      "txflag demo: streaming %s into topic payments while the engine "
      "consumes it (group join takes ~3 s)\n\nNew alerts as they are "
      "produced to topic alerts:\n",
      options.payments.c_str());
  std::fflush(stdout);
  SetMinLogLevel(LogLevel::kWarning);  // the demo prints its own lines
  kafka::StreamRunSummary summary;
  absl::Status status = kafka::RunStream(run, &summary);
  feeder.join();
  store.reset();
  TXFLAG_RETURN_IF_ERROR(status);
  TXFLAG_RETURN_IF_ERROR(feed_status);
  if (options.stop->load()) {
    return absl::CancelledError("demo interrupted");
  }

  engine::MetricsAccumulator metrics([&] {
    std::vector<std::string> ids;
    for (const auto& rule : pack.rules) ids.push_back(rule->id());
    return ids;
  }());
  std::vector<txflag::v1::Alert> alerts;
  for (const auto& [id, alert] : final_revisions) {
    metrics.Add(alert);
    alerts.push_back(alert);
  }
  engine::BacktestReport report =
      metrics.Finish(labels.has_value() ? &*labels : nullptr);
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "\ntxflag demo: %s payments streamed through Kafka in %.1f s (%s legs "
      "repartitioned, %s dead letters); %s alerts (%s revisions) produced to "
      "topic alerts\n",
      WithThousands(summary.input_messages).c_str(), summary.seconds,
      WithThousands(summary.legs_produced).c_str(),
      WithThousands(summary.dead_letters).c_str(),
      WithThousands(summary.alerts_raised).c_str(),
      WithThousands(summary.alert_revisions).c_str());
  std::printf("\n  %-24s %7s %9s %10s %7s\n", "rule", "alerts", "accounts",
              "precision", "recall");
  for (const auto& r : report.rules) {
    std::printf("  %-24s %7lld %9lld %10.2f %7.2f\n", r.rule.c_str(),
                static_cast<long long>(r.alerts),
                static_cast<long long>(r.alerted_accounts), r.precision,
                r.recall);
  }
  std::printf("  %-24s %7lld %9lld %10.2f %7.2f\n", "overall",
              static_cast<long long>(report.overall.alerts),
              static_cast<long long>(report.overall.alerted_accounts),
              report.overall.precision, report.overall.recall);
  if (report.labelled) {
    std::printf("  recall by typology:");
    for (const auto& t : report.typologies) {
      std::printf(" %s %.2f (%lld/%lld)", t.typology.c_str(), t.recall,
                  static_cast<long long>(t.alerted),
                  static_cast<long long>(t.labelled_accounts));
    }
    std::printf("\n");
  }
  std::printf("\n");
  PrintStrongestAlerts(std::move(alerts), "Strongest alerts:");
  std::printf("\ntxflag demo: done in %.1f s in all\n", seconds);
  return absl::OkStatus();
}

}  // namespace txflag::cli
