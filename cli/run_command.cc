#include "cli/run_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "cli/exit_code.h"
#include "connectors/http_server.h"
#include "connectors/kafka/properties.h"
#include "connectors/rocksdb_store.h"
#include "engine/metrics_registry.h"
#include "rules/rule_pack.h"

namespace txflag::cli {

namespace kafka = connectors::kafka;

absl::StatusOr<kafka::StreamRunSummary> RunStreamCommand(
    const RunOptions& options) {
  if (options.state_dir.empty()) {
    return WithExit(absl::InvalidArgumentError("--state-dir is required"),
                    kExitUsage);
  }
  if (options.log_level == "debug") {
    SetMinLogLevel(LogLevel::kDebug);
  } else if (options.log_level == "warning") {
    SetMinLogLevel(LogLevel::kWarning);
  } else if (options.log_level == "error") {
    SetMinLogLevel(LogLevel::kError);
  } else {
    SetMinLogLevel(LogLevel::kInfo);
  }
  absl::StatusOr<rules::CompiledPack> pack =
      options.rules.empty()
          ? rules::CompileRulePack(rules::DefaultRulePackText(),
                                   "<built-in default pack>")
          : rules::LoadRulePackFile(options.rules);
  if (!pack.ok()) return WithExit(pack.status(), kExitUsage);

  kafka::StreamRunnerOptions o;
  if (!options.brokers.empty()) {
    o.properties.emplace_back("bootstrap.servers", options.brokers);
  }
  for (const std::string& kv : options.properties) {
    auto property = kafka::ParseKafkaProperty(kv);
    if (!property.ok()) return WithExit(property.status(), kExitUsage);
    o.properties.push_back(std::move(*property));
  }
  o.input_topic = options.input_topic;
  o.alerts_topic = options.alerts_topic;
  o.dead_letter_topic = options.dead_letter_topic;
  o.group = options.group;
  o.repartition_topic = options.repartition_topic;
  o.changelog_topic = options.changelog_topic;
  o.internal_partitions = options.internal_partitions;
  o.mode = options.mode == "in-process" ? kafka::StreamMode::kInProcess
                                        : kafka::StreamMode::kRepartition;
  o.input_encoding = options.input_format == "json"
                         ? kafka::PaymentEncoding::kJson
                         : kafka::PaymentEncoding::kProtobuf;
  o.alert_encoding = options.alerts_format == "json"
                         ? kafka::AlertEncoding::kJson
                         : kafka::AlertEncoding::kProtobuf;
  o.pack = &*pack;
  o.allowed_lateness_seconds = options.allowed_lateness_seconds;
  o.commit_interval_ms = options.commit_interval_ms;
  o.max_input_idle_ms = options.max_input_idle_ms;
  o.max_repartition_lag = options.max_repartition_lag;
  o.exit_when_idle_ms = options.exit_when_idle_ms;
  o.stop = options.stop;
  o.on_alert = options.on_alert;
  if (options.fresh) {
    TXFLAG_RETURN_IF_ERROR(connectors::DestroyState(options.state_dir));
  }
  auto store = connectors::RocksDbStateStore::Open(options.state_dir);
  if (!store.ok()) {
    return WithExit(
        store.status(),
        store.status().code() == absl::StatusCode::kFailedPrecondition
            ? kExitState
            : kExitFailure);
  }
  o.store = store->get();
  connectors::RocksDbStateStore* rocksdb = store->get();
  o.state_bytes = [rocksdb] {
    return static_cast<double>(rocksdb->ApproximateBytes());
  };
  if (absl::Status s = o.Validate(); !s.ok()) return WithExit(s, kExitUsage);

  engine::MetricsRegistry registry;
  std::atomic<bool> ready{false};
  o.metrics = &registry;
  o.ready = &ready;
  std::unique_ptr<connectors::HttpServer> server;
  if (options.metrics_port >= 0) {
    connectors::HttpServerOptions http;
    http.address = options.metrics_address;
    http.port = options.metrics_port;
    http.metrics = [&registry] { return registry.RenderPrometheusText(); };
    http.ready = [&ready] { return ready.load(); };
    auto started = connectors::HttpServer::Start(std::move(http));
    if (!started.ok()) return WithExit(started.status(), kExitUsage);
    server = std::move(*started);
    LogEvent(LogLevel::kInfo, "metrics_listening",
             {{"address", options.metrics_address},
              {"port", absl::StrCat(server->port())}});
    if (options.on_metrics_port) options.on_metrics_port(server->port());
  }

  kafka::StreamRunSummary summary;
  absl::Status status = kafka::RunStream(o, &summary);
  server.reset();
  if (!status.ok()) {
    switch (status.code()) {
      case absl::StatusCode::kInvalidArgument:
        return WithExit(status, kExitUsage);
      case absl::StatusCode::kFailedPrecondition:
        return WithExit(status, kExitState);
      default:
        return WithExit(status, kExitFailure);
    }
  }
  if (options.print_summary) {
    std::printf(
        "txflag run: %lld input messages, %lld legs repartitioned, %lld "
        "records processed (%lld repeated legs skipped), %lld alerts "
        "(%lld revisions), %lld dead letters, %lld commits, %.1f s\n",
        static_cast<long long>(summary.input_messages),
        static_cast<long long>(summary.legs_produced),
        static_cast<long long>(summary.records_processed),
        static_cast<long long>(summary.duplicates_skipped),
        static_cast<long long>(summary.alerts_raised),
        static_cast<long long>(summary.alert_revisions),
        static_cast<long long>(summary.dead_letters),
        static_cast<long long>(summary.commits), summary.seconds);
    std::fflush(stdout);
  }
  return summary;
}

}  // namespace txflag::cli
