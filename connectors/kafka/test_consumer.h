// File: connectors/kafka/test_consumer.h
//
// Tests only: reads a topic back with a plain consumer (assign(), no group
// join), so a test can check what a producer wrote.
#ifndef TXFLAG_CONNECTORS_KAFKA_TEST_CONSUMER_H_
#define TXFLAG_CONNECTORS_KAFKA_TEST_CONSUMER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace txflag::connectors::kafka::testing {

struct ConsumedMessage {
  std::string key;
  std::string value;
  bool null_value = false;  // a NULL value (tombstone), not an empty one
  std::vector<std::pair<std::string, std::string>> headers;  // in order
  int32_t partition = -1;
  int64_t offset = -1;
};

// Reads partitions 0..partitions-1 of `topic` from the beginning until
// `expected` messages arrived or `timeout_ms` passed (then returns what it
// has). Errors from the consumer are returned translated.
absl::StatusOr<std::vector<ConsumedMessage>> ReadTopic(
    const std::string& bootstrap_servers, const std::string& topic,
    int partitions, size_t expected, int timeout_ms = 10000);

// The same for the one partition `partition` of `topic`, in offset order.
absl::StatusOr<std::vector<ConsumedMessage>> ReadPartition(
    const std::string& bootstrap_servers, const std::string& topic,
    int32_t partition, size_t expected, int timeout_ms = 10000);

// Messages in partitions 0..partitions-1 of `topic` (the sum of high minus
// low watermarks), asked of the brokers: proves nothing beyond what was read
// was written, without waiting for it.
absl::StatusOr<int64_t> CountMessages(const std::string& bootstrap_servers,
                                      const std::string& topic, int partitions);

}  // namespace txflag::connectors::kafka::testing

#endif  // TXFLAG_CONNECTORS_KAFKA_TEST_CONSUMER_H_
