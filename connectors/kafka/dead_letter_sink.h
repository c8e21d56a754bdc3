// File: connectors/kafka/dead_letter_sink.h
//
// engine::RejectSink over a Kafka dead-letter topic: every rejected record is
// one message whose value is the raw bytes as received (a KafkaPartitionSource
// reject's message value, or a file reader's row), keyed by the record's
// location, with headers
//
//   txflag.reason            why it was rejected;
//   txflag.source.topic      for a Kafka location
//   txflag.source.partition    "<topic>/<partition>@<offset>",
//   txflag.source.offset       partition and offset in decimal;
//   txflag.source.location   for any other location ("<path>:<line>")
//
// produced through librdkafka's idempotent producer with acks=all (the
// producing code is PaymentProducer's, connectors/kafka/internal/producer.h).
//
//   KafkaDeadLetterSinkOptions options;
//   options.properties = {{"bootstrap.servers", servers}};
//   options.topic = "payments.dlq";
//   TXFLAG_ASSIGN_OR_RETURN(auto dlq, KafkaDeadLetterSink::Create(options));
//   ... Processor::Open(pack, popts, &store, dlq.get(), &alerts) ...
//
// Write() queues; Flush() returns once the brokers acknowledged every reject
// written so far, with a checkpoint: the number of rejects acknowledged over
// the sink's history (decimal, counted on from the checkpoint given to
// Restore()). A delivery error is sticky (kUnavailable when the brokers are
// down or unreachable for message.timeout.ms): drop the sink and restart from
// the last commit.
//
// At-least-once. Restore() cannot take back what the brokers already hold, so
// it only resumes the count: after a crash between a Flush() and the commit
// that recorded its checkpoint, the rerun produces the same rejects again,
// identical (same value, key and headers, so the same source offset
// headers). Consumers of the dead-letter topic dedupe on (txflag.source.topic,
// txflag.source.partition, txflag.source.offset), or on the key.
//
// Reasons and raw bytes may hold account numbers: they go into messages only,
// never into returned errors or log lines (which name the location at most).
// Not thread-safe.
#ifndef TXFLAG_CONNECTORS_KAFKA_DEAD_LETTER_SINK_H_
#define TXFLAG_CONNECTORS_KAFKA_DEAD_LETTER_SINK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connectors/kafka/properties.h"
#include "engine/source.h"

namespace txflag::connectors::kafka {

// Header names.
inline constexpr char kDeadLetterReasonHeader[] = "txflag.reason";
inline constexpr char kDeadLetterTopicHeader[] = "txflag.source.topic";
inline constexpr char kDeadLetterPartitionHeader[] = "txflag.source.partition";
inline constexpr char kDeadLetterOffsetHeader[] = "txflag.source.offset";
inline constexpr char kDeadLetterLocationHeader[] = "txflag.source.location";

// A KafkaPartitionSource location "<topic>/<partition>@<offset>", parsed.
struct KafkaLocation {
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

// `location` as a Kafka location: a non-empty topic, then '/', a partition
// >= 0, '@' and an offset >= 0 (decimal digits only); nullopt otherwise.
std::optional<KafkaLocation> ParseKafkaLocation(std::string_view location);

struct KafkaDeadLetterSinkOptions {
  // librdkafka properties (bootstrap.servers at least), as for
  // PaymentProducerOptions (enable.idempotence and acks are fixed).
  KafkaProperties properties;
  // The dead-letter topic (required).
  std::string topic;
  // How long Flush() waits for acknowledgements, milliseconds; negative: up
  // to message.timeout.ms. Default -1.
  int64_t flush_timeout_ms = -1;
  // Client-level errors while librdkafka retries (as PaymentProducer's).
  std::function<void(const absl::Status&)> on_client_error;

  absl::Status Validate() const;
};

class KafkaDeadLetterSink : public engine::RejectSink {
 public:
  struct Stats {
    int64_t written = 0;    // Write() calls queued by this object
    int64_t delivered = 0;  // acknowledged by the brokers
    int64_t failed = 0;     // delivery failed
  };

  // InvalidArgument for bad options or a property librdkafka rejects.
  static absl::StatusOr<std::unique_ptr<KafkaDeadLetterSink>> Create(
      const KafkaDeadLetterSinkOptions& options);

  KafkaDeadLetterSink(const KafkaDeadLetterSink&) = delete;
  KafkaDeadLetterSink& operator=(const KafkaDeadLetterSink&) = delete;
  // Purges what is not yet delivered (no waiting).
  ~KafkaDeadLetterSink() override;

  // Queues one reject (copied). The sticky delivery error once one failed.
  absl::Status Write(std::string_view location, std::string_view reason,
                     std::string_view raw) override;
  // Waits for every reject written; returns the checkpoint (see above), the
  // first delivery error, or DeadlineExceeded after flush_timeout_ms.
  absl::StatusOr<std::string> Flush() override;
  // Resumes the acknowledged count at `checkpoint` ("" = 0). Takes nothing
  // back from the topic (see "At-least-once"). InvalidArgument for a
  // checkpoint that is not a count.
  absl::Status Restore(std::string_view checkpoint) override;

  Stats stats() const;

  // For a commit that waits off the producing thread (as KafkaAlertSink's):
  // the position after the last reject written; the checkpoint Flush()
  // would return once everything up to `position` is acknowledged; and a
  // wait (on any thread) for that.
  int64_t position() const;
  std::string CheckpointAt(int64_t position) const;
  absl::Status WaitDelivered(int64_t position);

 private:
  struct Impl;
  explicit KafkaDeadLetterSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txflag::connectors::kafka

#endif  // TXFLAG_CONNECTORS_KAFKA_DEAD_LETTER_SINK_H_
