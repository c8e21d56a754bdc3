// File: cli/produce_command.h
//
// `txflag produce`: publishes a payments file (canonical CSV, JSON Lines or
// AMLworld CSV, read by connectors/file_source.h) to a Kafka topic as
// txflag.v1.Payment messages, keyed by debtor account (creditor account for a
// cash deposit), protobuf binary or, with --json, protobuf JSON. A stand-in
// for a bank's payment system, for tests, demos and benchmarks.
//
//   $ txflag produce --brokers 127.0.0.1:39417 --topic payments
//       --input data/payments.csv --rejects out/rejects.csv
//
// Rows that are not valid payments go to the rejects CSV (location,reason,
// raw), or with --strict stop the run (exit 3) before anything after them is
// sent. Every message is acknowledged by the brokers (idempotent producer,
// acks=all) before the command reports success.
#ifndef TXFLAG_CLI_PRODUCE_COMMAND_H_
#define TXFLAG_CLI_PRODUCE_COMMAND_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txflag::cli {

struct ProduceOptions {
  std::string brokers;          // bootstrap servers HOST:PORT[,...] (required)
  std::string topic;            // required
  std::string input;            // payments file (required)
  std::string format = "auto";  // auto, csv, jsonl, amlworld
  bool json = false;            // protobuf JSON values instead of binary
  // librdkafka properties as "key=value" (-X), applied after --brokers.
  std::vector<std::string> properties;
  std::string rejects = "rejects.csv";  // rejects CSV, truncated first
  bool strict = false;                  // first bad row is an error
  // Payments per second to send at most (0: as fast as possible). Streams a
  // file at a steady rate, as a live feed would (tests, demos, benchmarks).
  double rate = 0;
  bool progress = true;                     // progress lines on stderr
  bool print_summary = true;                // summary on stdout
  const std::atomic<bool>* stop = nullptr;  // stop early when true
};

struct ProduceResult {
  int64_t records = 0;    // records read from the file
  int64_t delivered = 0;  // payments acknowledged by the brokers
  int64_t rejected = 0;   // rows written to the rejects CSV
  double elapsed_seconds = 0;
};

// Publishes the file. On error a status with its exit code for
// ExitCodeFor(): 2 bad arguments or -X property, 3 bad header or a bad row
// under --strict, 1 broker or I/O failure (a message not delivered within
// message.timeout.ms), 130 interrupted (the payments sent so far are
// delivered; running again sends the whole file again).
absl::StatusOr<ProduceResult> RunProduce(const ProduceOptions& options);

}  // namespace txflag::cli

#endif  // TXFLAG_CLI_PRODUCE_COMMAND_H_
