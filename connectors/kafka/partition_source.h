// File: connectors/kafka/partition_source.h
//
// engine::PaymentSource over ONE Kafka topic-partition, read by a consumer
// that is assigned to it (rd_kafka_assign, no group subscription), so the
// engine's per-partition Processor owns it and positions it from its own
// checkpoint (the offsets stored with the state), never from the group's
// committed offsets. Nothing is committed to the group here.
//
//   KafkaPartitionSourceOptions options;
//   options.properties = {{"bootstrap.servers", servers}};
//   options.topic = "payments";
//   options.partition = 3;
//   TXFLAG_ASSIGN_OR_RETURN(auto source,
//   KafkaPartitionSource::Create(options));
//   TXFLAG_RETURN_IF_ERROR(source->Restore(processor->source_checkpoint()));
//
// Each message value is a txflag.v1.Payment (protobuf binary, or protobuf
// JSON with PaymentEncoding::kJson, as PaymentProducer writes them) and goes
// through the file readers' checks (connectors/internal/payment_checks.h).
// A record's location is "<topic>/<partition>@<offset>"; a message that does
// not parse or fails the checks is a Kind::kReject record with the reason and
// raw = the message value bytes (for a dead-letter topic).
//
// Idle versus end. PaymentSource::Next() returns false at "the end of the
// input", which a live partition does not have. Next() waits at most
// options.poll_timeout_ms for a message; when none comes it returns false
// with idle() true: nothing right now, call Next() again (a driver commits,
// checks for shutdown, and loops). With options.stop_at_end, Next() returns
// false with at_end() true once the partition's high watermark read at
// Create() is reached: a bounded replay, for tests and parity back-tests,
// which engine::RunToEnd() can drive (RunToEnd treats every false as the end,
// so use it only with stop_at_end). A driver of a live stream:
//
//   while (!stop) {
//     TXFLAG_ASSIGN_OR_RETURN(bool got, source->Next(&record));
//     if (got) { processor->Process(&record); continue; }
//     if (source->at_end()) break;
//     // idle(): commit if due, then poll again
//   }
//
// Broker errors. Transient ones (kUnavailable: broker down, transport,
// timeouts, leader changes) are retried inside Next() with exponential
// backoff (100 ms doubling to options.max_backoff_ms), reported once per
// outage through options.on_client_error (default: one line on stderr; never
// message keys or values, so no account numbers), and Next() keeps returning
// idle while they last. When an outage outlasts options.unavailable_timeout_ms
// (if >= 0), or librdkafka reports a fatal error, Next() returns kUnavailable;
// other client errors (unknown partition, authorization) are returned with
// their own code. A checkpointed offset that the broker no longer has (deleted
// by retention) is DataLoss, not a silent skip (auto.offset.reset=error by
// default; a -X auto.offset.reset=earliest overrides it).
//
// Not thread-safe: one reader, as PaymentSource.
#ifndef TXFLAG_CONNECTORS_KAFKA_PARTITION_SOURCE_H_
#define TXFLAG_CONNECTORS_KAFKA_PARTITION_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connectors/kafka/payment_producer.h"
#include "connectors/kafka/properties.h"
#include "engine/source.h"

namespace txflag::connectors::kafka {

struct KafkaPartitionSourceOptions {
  // librdkafka consumer properties (bootstrap.servers at least), applied
  // after txflag's defaults (group.id=txflag, enable.auto.commit=false,
  // enable.partition.eof=true, auto.offset.reset=error, log_level=2).
  KafkaProperties properties;
  // The topic-partition to read (required; partition >= 0).
  std::string topic;
  int32_t partition = 0;
  // Message value format. Default protobuf binary.
  PaymentEncoding encoding = PaymentEncoding::kProtobuf;
  // Longest a Next() call waits for a message, milliseconds (> 0).
  // Default 100.
  int poll_timeout_ms = 100;
  // Next() returns false (at_end()) at the high watermark read at Create().
  bool stop_at_end = false;
  // Backoff cap between retries of a transient broker error. Default 5000.
  int max_backoff_ms = 5000;
  // Give up with kUnavailable after a transient outage this long,
  // milliseconds; negative: retry forever (the default, for a live engine).
  int64_t unavailable_timeout_ms = -1;
  // Transient broker problems, once per outage (kUnavailable), and the
  // recovery (OK). Default: a "warning: ..." / "info: ..." line on stderr.
  std::function<void(const absl::Status&)> on_client_error;

  absl::Status Validate() const;
};

class KafkaPartitionSource : public engine::PaymentSource {
 public:
  // Creates the consumer and reads the partition's watermarks (so the
  // brokers must answer within 10 s: kUnavailable otherwise, kNotFound for an
  // unknown topic or partition). Starts at the partition's low watermark
  // unless Restore() says otherwise.
  static absl::StatusOr<std::unique_ptr<KafkaPartitionSource>> Create(
      const KafkaPartitionSourceOptions& options);

  KafkaPartitionSource(const KafkaPartitionSource&) = delete;
  KafkaPartitionSource& operator=(const KafkaPartitionSource&) = delete;
  ~KafkaPartitionSource() override;  // closes the consumer

  absl::StatusOr<bool> Next(engine::SourceRecord* record) override;
  // "kafka1:<topic>/<partition>@<next offset>".
  std::string Checkpoint() const override;
  // "" keeps the start position; another topic or partition is
  // FailedPrecondition; anything unreadable InvalidArgument. May be called
  // again later (seeks).
  absl::Status Restore(std::string_view checkpoint) override;
  // With stop_at_end: the part of [start, end) read; else -1.
  double Progress() const override;

  // The last Next() returned false because no message came within
  // poll_timeout_ms (or the brokers are being retried): not the end.
  bool idle() const;
  // The last Next() returned false because stop_at_end's offset was reached.
  bool at_end() const;
  // Offset of the next message to read.
  int64_t next_offset() const;
  // High watermark read at Create() (stop_at_end's end).
  int64_t end_offset() const;

 private:
  struct Impl;
  explicit KafkaPartitionSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txflag::connectors::kafka

#endif  // TXFLAG_CONNECTORS_KAFKA_PARTITION_SOURCE_H_
