// File: cli/broker_command.h
//
// `txflag broker`: a 3-broker Kafka test cluster (librdkafka's mock cluster)
// on 127.0.0.1, with the topics created, running until SIGINT/SIGTERM. For
// tests, demos, benchmarks and trying `txflag produce` or kcat without a real
// cluster. Its limits (about 5 MiB kept per partition, transactions not
// honoured) are those of connectors/kafka/mock_cluster.h.
//
//   $ txflag broker --bootstrap-file /tmp/brokers
//   127.0.0.1:39417,127.0.0.1:41211,127.0.0.1:36871
//   $ kcat -b "$(cat /tmp/brokers)" -L
#ifndef TXFLAG_CLI_BROKER_COMMAND_H_
#define TXFLAG_CLI_BROKER_COMMAND_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace txflag::cli {

struct BrokerOptions {
  // Partitions of each topic. Default 8.
  int partitions = 8;
  // Topics to create (replication factor 3). Default payments, alerts.
  std::vector<std::string> topics = {"payments", "alerts"};
  // When set, the bootstrap servers are also written to this file (created
  // atomically, so a reader never sees half of it; removed at exit).
  std::string bootstrap_file;
  // Runs until *stop is true (required).
  const std::atomic<bool>* stop = nullptr;

  // InvalidArgument for partitions < 1, no topic, an empty topic name or no
  // stop flag.
  absl::Status Validate() const;
};

// Starts the cluster, creates the topics, prints the bootstrap servers as the
// first line on stdout (and a description on stderr), then waits for *stop.
// OK after a clean stop; on error a status carrying its exit code for
// ExitCodeFor(): 2 for bad options, 1 when the cluster cannot start or the
// bootstrap file cannot be written.
absl::Status RunBroker(const BrokerOptions& options);

}  // namespace txflag::cli

#endif  // TXFLAG_CLI_BROKER_COMMAND_H_
