#include "cli/run_command.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "cli/exit_code.h"
#include "connectors/http_server.h"
#include "connectors/kafka/properties.h"
#include "connectors/rocksdb_store.h"
#include "engine/metrics_registry.h"
#include "rules/rule_pack.h"

namespace txflag::cli {

namespace kafka = connectors::kafka;

absl::Status ApplyRunConfig(
    std::string_view text, std::string_view file,
    const std::function<bool(std::string_view key)>& given_on_command_line,
    RunOptions* o) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
      v.remove_prefix(1);
    }
    while (!v.empty() &&
           (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
      v.remove_suffix(1);
    }
    return v;
  };
  std::vector<std::string> config_properties;
  int line_number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = absl::StrCat(Av(file), ":", line_number);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected 'key = value'"));
    }
    const std::string key(trim(line.substr(0, eq)));
    std::string_view value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    const std::string v(value);
    auto number = [&](int64_t* out) -> absl::Status {
      if (!absl::SimpleAtoi(v, out)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": ", key, " must be a whole number, got '", v, "'"));
      }
      return absl::OkStatus();
    };
    if (key == "X") {
      config_properties.push_back(v);
      continue;
    }
    if (given_on_command_line && given_on_command_line(key)) continue;
    std::string* text_field = nullptr;
    if (key == "brokers") text_field = &o->brokers;
    if (key == "input-topic") text_field = &o->input_topic;
    if (key == "alerts-topic") text_field = &o->alerts_topic;
    if (key == "dlq-topic") text_field = &o->dead_letter_topic;
    if (key == "group") text_field = &o->group;
    if (key == "repartition-topic") text_field = &o->repartition_topic;
    if (key == "changelog-topic") text_field = &o->changelog_topic;
    if (key == "mode") text_field = &o->mode;
    if (key == "input-format") text_field = &o->input_format;
    if (key == "alerts-format") text_field = &o->alerts_format;
    if (key == "state-dir") text_field = &o->state_dir;
    if (key == "rules") text_field = &o->rules;
    if (key == "metrics-address") text_field = &o->metrics_address;
    if (key == "log-level") text_field = &o->log_level;
    if (text_field != nullptr) {
      *text_field = v;
      continue;
    }
    int64_t* number_field = nullptr;
    if (key == "allowed-lateness") number_field = &o->allowed_lateness_seconds;
    if (key == "commit-interval-ms") number_field = &o->commit_interval_ms;
    if (key == "max-input-idle-ms") number_field = &o->max_input_idle_ms;
    if (key == "max-repartition-lag") number_field = &o->max_repartition_lag;
    if (key == "exit-when-idle-ms") number_field = &o->exit_when_idle_ms;
    if (number_field != nullptr) {
      TXFLAG_RETURN_IF_ERROR(number(number_field));
      continue;
    }
    if (key == "partitions" || key == "metrics-port") {
      int64_t n = 0;
      TXFLAG_RETURN_IF_ERROR(number(&n));
      (key == "partitions" ? o->internal_partitions : o->metrics_port) =
          static_cast<int>(n);
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": unknown key '", key,
        "' (keys are the long options of txflag run without '--', and X "
        "for librdkafka properties)"));
  }
  // The file's -X first, the command line's after them (a later one wins).
  config_properties.insert(config_properties.end(), o->properties.begin(),
                           o->properties.end());
  o->properties = std::move(config_properties);
  return absl::OkStatus();
}

absl::Status ApplyRunConfigFile(
    const std::string& path,
    const std::function<bool(std::string_view key)>& given_on_command_line,
    RunOptions* options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return WithExit(absl::NotFoundError(
                        absl::StrCat("cannot read config file '", path, "'")),
                    kExitUsage);
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::Status status =
      ApplyRunConfig(text.str(), path, given_on_command_line, options);
  if (!status.ok()) return WithExit(status, kExitUsage);
  return status;
}

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
      rules::LoadRulePackOrDefault(options.rules);
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
