// File: cli/stream_demo.h
//
// `txflag demo`: the whole streaming path on one machine, no broker to
// install. Starts librdkafka's mock cluster (3 brokers) in the process,
// creates the topics, streams a generated payments file into the input topic
// from a feeder thread (paced so the mock's ~5 MiB per partition is never
// overrun), runs `txflag run`'s engine against it (repartition mode, RocksDB
// state, changelog), prints alert revisions as they are produced, and ends
// with a summary: throughput, alerts by rule, precision and recall against
// the generator's labels, and the strongest alerts with their explanations.
#ifndef TXFLAG_CLI_STREAM_DEMO_H_
#define TXFLAG_CLI_STREAM_DEMO_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/alert.pb.h"

namespace txflag::cli {

struct StreamDemoOptions {
  std::string payments;        // canonical CSV (required)
  std::string labels;          // labels CSV ("" = none)
  std::string state_dir;       // RocksDB state (deleted first)
  int partitions = 8;          // of every topic
  int64_t max_ahead = 100000;  // payments the feeder may be ahead of the engine
  int max_printed_alerts = 20;  // new alerts printed as they come
  const std::atomic<bool>* stop = nullptr;
};

absl::Status RunStreamDemo(const StreamDemoOptions& options);

// Prints `title`, then the five highest-scoring alerts with their
// explanations (the demo's ending, as an analyst would read them).
void PrintStrongestAlerts(std::vector<txflag::v1::Alert> alerts,
                          const std::string& title);

}  // namespace txflag::cli

#endif  // TXFLAG_CLI_STREAM_DEMO_H_
