// File: connectors/kafka/internal/producer.h
//
// The producing core shared by PaymentProducer and KafkaAlertSink: an
// idempotent librdkafka producer (acks=all) for one topic that sends
// (key, value) messages, counts deliveries and keeps the first delivery error
// (sticky). Private to connectors/kafka.
//
//   ProducerConfig config;
//   config.properties = {{"bootstrap.servers", servers}};
//   config.topic = "alerts";
//   config.role = "alert producer";
//   TXFLAG_ASSIGN_OR_RETURN(auto producer, Producer::Create(config));
//   TXFLAG_RETURN_IF_ERROR(producer->Produce(key, value, "alert", id));
//   TXFLAG_RETURN_IF_ERROR(producer->Flush());
//
// Not thread-safe: one thread produces, polls and flushes (delivery reports
// run on it). Errors and log lines never carry message keys.
#ifndef TXFLAG_CONNECTORS_KAFKA_INTERNAL_PRODUCER_H_
#define TXFLAG_CONNECTORS_KAFKA_INTERNAL_PRODUCER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connectors/kafka/internal/rdkafka_handles.h"
#include "connectors/kafka/properties.h"

namespace txflag::connectors::kafka::internal {

// The value of the last `key` in `properties` ("" when absent).
std::string_view FindProperty(const KafkaProperties& properties,
                              std::string_view key);

struct ProducerConfig {
  // librdkafka properties, applied after client.id / linger.ms=5 /
  // log_level=2 and before enable.idempotence=true and acks=all.
  KafkaProperties properties;
  std::string topic;
  std::string client_id = "txflag-producer";
  // Names the producer in messages: "payment producer", "alert producer".
  std::string role = "producer";
  // Client-level errors while librdkafka retries (see PaymentProducer).
  std::function<void(const absl::Status&)> on_client_error;
};

// InvalidArgument for an empty topic, no bootstrap.servers, or
// enable.idempotence / acks set to anything but true / all.
absl::Status ValidateProducerConfig(const KafkaProperties& properties,
                                    std::string_view topic,
                                    std::string_view role);

// A librdkafka producer handle: txflag's defaults (client.id `client_id`,
// linger.ms=5, log_level=2), then `properties` in order, then
// enable.idempotence=true and acks=all; `on_delivery` / `on_error` with
// `opaque` as librdkafka's callbacks. Validate the properties first
// (ValidateProducerConfig). Shared by Producer and the changelog store.
absl::StatusOr<HandlePtr> NewIdempotentProducer(
    const KafkaProperties& properties, std::string_view client_id,
    void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*),
    void (*on_error)(rd_kafka_t*, int, const char*, void*), void* opaque);

// The status for a failed delivery report: "<context>: <error>", with what
// to do for a fatal error (Aborted: `fatal_hint`) or a broker problem
// (Unavailable: check the brokers `bootstrap_servers`).
absl::Status DeliveryError(rd_kafka_t* rk, const rd_kafka_message_t* message,
                           std::string_view context,
                           std::string_view bootstrap_servers,
                           std::string_view fatal_hint);

// Kafka message headers (name, value), in order; copied by Produce().
using MessageHeaders =
    std::vector<std::pair<std::string_view, std::string_view>>;

class Producer {
 public:
  struct Stats {
    int64_t sent = 0;
    int64_t delivered = 0;
    int64_t failed = 0;
  };

  static absl::StatusOr<std::unique_ptr<Producer>> Create(
      const ProducerConfig& config);

  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  // Purges what is not delivered (no waiting).
  ~Producer();

  // Queues one message (copied). Waits while the local queue is full.
  // Returns the sticky delivery error if a message already failed; `kind`
  // and `id` ("payment", "p1") name the message in a queueing error.
  // `headers`, if any, are added to the message in order. `partition` < 0
  // leaves the choice to the partitioner (by key); `timestamp_ms` > 0 sets
  // the message's CreateTime (0: now).
  absl::Status Produce(std::string_view key, std::string_view value,
                       std::string_view kind, std::string_view id,
                       const MessageHeaders& headers = {},
                       int32_t partition = -1, int64_t timestamp_ms = 0);

  // As PaymentProducer::Flush.
  absl::Status Flush(int64_t timeout_ms = -1);

  // The sequence number of the last message queued by Produce (1, 2, ...;
  // 0 before the first).
  int64_t last_sequence() const;
  // Waits until every message with sequence <= `sequence` is acknowledged,
  // serving delivery reports meanwhile; messages queued later may still be
  // in flight (unlike Flush, a steady stream of new messages cannot keep it
  // waiting). The first delivery error, or DeadlineExceeded after
  // `timeout_ms` (< 0: no limit). May run on another thread than Produce:
  // the delivery state is guarded.
  absl::Status WaitDelivered(int64_t sequence, int64_t timeout_ms = -1);

  void Poll();
  Stats stats() const;
  const std::string& topic() const;
  // The first delivery error (OK if none).
  absl::Status first_error() const;

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txflag::connectors::kafka::internal

#endif  // TXFLAG_CONNECTORS_KAFKA_INTERNAL_PRODUCER_H_
