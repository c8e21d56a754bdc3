// File: connectors/kafka/alert_sink.h
//
// engine::AlertSink over a Kafka topic: every revision of every alert is one
// message keyed by alert_id (so a compacted alerts topic keeps each alert's
// latest revision), protobuf binary by default or protobuf JSON, through
// librdkafka's idempotent producer with acks=all (the producing code is
// PaymentProducer's, connectors/kafka/internal/producer.h).
//
//   KafkaAlertSinkOptions options;
//   options.properties = {{"bootstrap.servers", servers}};
//   options.topic = "alerts";
//   TXFLAG_ASSIGN_OR_RETURN(auto sink, KafkaAlertSink::Create(options));
//   ... Processor::Open(pack, popts, &store, &rejects, sink.get()) ...
//
// Emit() queues; Flush() returns once the brokers acknowledged every revision
// emitted so far, or with the first delivery error (sticky: the sink should
// then be dropped and the engine restarted from its last commit, which
// re-raises the lost revisions with the same ids and content). Consumers of
// the topic dedupe by (alert_id, revision). Not thread-safe.
#ifndef TXFLAG_CONNECTORS_KAFKA_ALERT_SINK_H_
#define TXFLAG_CONNECTORS_KAFKA_ALERT_SINK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connectors/kafka/properties.h"
#include "engine/alert_sink.h"
#include "proto/alert.pb.h"

namespace txflag::connectors::kafka {

enum class AlertEncoding {
  kProtobuf,  // Alert::SerializeToString (the default)
  kJson,      // protobuf's JSON mapping, proto field names, one line
};

// `alert` as a message value in `encoding`.
absl::StatusOr<std::string> EncodeAlert(const txflag::v1::Alert& alert,
                                        AlertEncoding encoding);

struct KafkaAlertSinkOptions {
  // librdkafka properties (bootstrap.servers at least), as for
  // PaymentProducerOptions (enable.idempotence and acks are fixed).
  KafkaProperties properties;
  // Topic to produce to (required).
  std::string topic;
  AlertEncoding encoding = AlertEncoding::kProtobuf;
  // How long Flush() waits for acknowledgements, milliseconds; negative: up
  // to message.timeout.ms. Default -1.
  int64_t flush_timeout_ms = -1;
  // Client-level errors while librdkafka retries (as PaymentProducer's).
  std::function<void(const absl::Status&)> on_client_error;

  absl::Status Validate() const;
};

class KafkaAlertSink : public engine::AlertSink {
 public:
  struct Stats {
    int64_t emitted = 0;
    int64_t delivered = 0;
    int64_t failed = 0;
  };

  // InvalidArgument for bad options or a property librdkafka rejects.
  static absl::StatusOr<std::unique_ptr<KafkaAlertSink>> Create(
      const KafkaAlertSinkOptions& options);

  KafkaAlertSink(const KafkaAlertSink&) = delete;
  KafkaAlertSink& operator=(const KafkaAlertSink&) = delete;
  ~KafkaAlertSink() override;

  // Queues `alert`, keyed by alert_id. InvalidArgument for an empty
  // alert_id; the sticky delivery error once one failed.
  absl::Status Emit(const txflag::v1::Alert& alert) override;
  // Waits for every emitted revision; the first delivery error, or
  // DeadlineExceeded after options.flush_timeout_ms.
  absl::Status Flush() override;

  Stats stats() const;

  // For a commit that waits off the producing thread: the position after
  // the last revision emitted, and a wait (on any thread) until every
  // revision up to `position` is acknowledged. WaitDelivered returns the
  // first delivery error, or DeadlineExceeded after flush_timeout_ms.
  int64_t position() const;
  absl::Status WaitDelivered(int64_t position);

 private:
  struct Impl;
  explicit KafkaAlertSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txflag::connectors::kafka

#endif  // TXFLAG_CONNECTORS_KAFKA_ALERT_SINK_H_
