// File: cli/run_command.h
//
// `txflag run`: the streaming engine (connectors/kafka/stream_runner.h) as a
// command: loads the rule pack, opens the RocksDB state dir, serves
// /metrics and /healthz, and runs until SIGTERM/SIGINT (a clean stop: the
// batch is finished and committed, the consumer leaves its group), an error,
// or with --exit-when-idle-ms the end of the input.
//
//   $ txflag run --brokers 127.0.0.1:39417 --input-topic payments
//       --alerts-topic alerts --group txflag --state-dir state
//       --metrics-port 9464 -X security.protocol=SASL_SSL ...
//
// Settings may also come from a config file (--config FILE, INI/TOML as
// CLI11 reads it: `brokers = "host:9092"`, `X = ["linger.ms=20"]`).
#ifndef TXFLAG_CLI_RUN_COMMAND_H_
#define TXFLAG_CLI_RUN_COMMAND_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "connectors/kafka/stream_runner.h"
#include "proto/alert.pb.h"

namespace txflag::cli {

struct RunOptions {
  std::string brokers;  // bootstrap servers (or -X bootstrap.servers=...)
  std::string input_topic = "payments";
  std::string alerts_topic = "alerts";
  std::string dead_letter_topic = "payments.dlq";
  std::string group = "txflag";
  std::string repartition_topic;           // "" = <group>.repartition
  std::string changelog_topic;             // "" = <group>.changelog
  int internal_partitions = 0;             // 0 = as the input topic
  std::string mode = "repartition";        // or "in-process"
  std::string input_format = "protobuf";   // or "json"
  std::string alerts_format = "protobuf";  // or "json"
  std::string state_dir;                   // required
  bool fresh = false;                      // delete the local state first
  std::string rules;                       // "" = built-in default pack
  int64_t allowed_lateness_seconds = 3600;
  int64_t commit_interval_ms = 1000;
  int64_t max_input_idle_ms = 500;
  int64_t max_repartition_lag = 10000;
  int64_t exit_when_idle_ms = -1;
  int metrics_port = -1;  // -1: no HTTP server; 0: an ephemeral port
  std::string metrics_address = "127.0.0.1";
  std::string log_level = "info";
  std::vector<std::string> properties;  // -X key=value
  bool print_summary = true;
  const std::atomic<bool>* stop = nullptr;
  // Optional: every alert revision as produced (the demo prints them).
  std::function<void(const txflag::v1::Alert&)> on_alert;
  // Optional: called with the metrics port once the server listens.
  std::function<void(int port)> on_metrics_port;
};

// Reads a `txflag run` config file into *options: one `key = value` per
// line, keys as the long command-line options without "--" (brokers,
// input-topic, group, state-dir, metrics-port, ...), `X = key=value` for a
// librdkafka property (repeatable; applied before the command line's -X, so
// those win), blank lines and `#` comments ignored, values optionally in
// double quotes. A key for which given_on_command_line(key) is true is
// skipped (the command line wins). InvalidArgument naming file:line for an
// unknown key, a bad number or a line without '='; NotFound for a missing
// file.
absl::Status ApplyRunConfigFile(
    const std::string& path,
    const std::function<bool(std::string_view key)>& given_on_command_line,
    RunOptions* options);

// As ApplyRunConfigFile, from text ("<file>" names it in errors).
absl::Status ApplyRunConfig(
    std::string_view text, std::string_view file,
    const std::function<bool(std::string_view key)>& given_on_command_line,
    RunOptions* options);

// Runs the engine. Exit codes through ExitCodeFor(): 2 bad arguments, rule
// pack or -X property; 4 state dir unusable (in use, other rule pack); 1
// broker or I/O failure.
absl::StatusOr<connectors::kafka::StreamRunSummary> RunStreamCommand(
    const RunOptions& options);

}  // namespace txflag::cli

#endif  // TXFLAG_CLI_RUN_COMMAND_H_
