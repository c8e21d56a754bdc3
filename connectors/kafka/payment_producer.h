// File: connectors/kafka/payment_producer.h
//
// Publishes txflag.v1.Payment messages to a Kafka topic, as a bank's payment
// system would: keyed by the debtor account (the creditor account for a cash
// deposit, which has no debtor account), protobuf binary by default or
// protobuf JSON, with librdkafka's idempotent producer and acks=all, so a
// retried send is never duplicated or reordered within a partition.
//
//   PaymentProducerOptions options;
//   options.properties = {{"bootstrap.servers", "127.0.0.1:9092"},
//                         {"linger.ms", "20"}};
//   options.topic = "payments";
//   TXFLAG_ASSIGN_OR_RETURN(std::unique_ptr<PaymentProducer> producer,
//                           PaymentProducer::Create(options));
//   for (const Payment& p : payments) {
//     TXFLAG_RETURN_IF_ERROR(producer->Send(p));
//   }
//   TXFLAG_RETURN_IF_ERROR(producer->Flush());  // every message delivered
//
// Errors are sticky: after the first message that could not be delivered,
// Send() and Flush() return that error (with the topic, partition and the
// message's sequence number), and the producer should be dropped. A message
// is either delivered or failed within message.timeout.ms (librdkafka's
// default 300000; lower it to fail sooner when brokers are unreachable), so
// Flush() does not hang on a dead cluster. Log lines and errors never carry
// message keys (account numbers).
//
// Not thread-safe: one thread sends and flushes. The destructor does not
// wait: messages not yet delivered are dropped (call Flush() first).
#ifndef TXFLAG_CONNECTORS_KAFKA_PAYMENT_PRODUCER_H_
#define TXFLAG_CONNECTORS_KAFKA_PAYMENT_PRODUCER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connectors/kafka/properties.h"
#include "proto/payment.pb.h"

namespace txflag::connectors::kafka {

// How a Payment is written into a message value.
enum class PaymentEncoding {
  kProtobuf,  // Payment::SerializeToString (the default)
  kJson,      // protobuf's JSON mapping, proto field names, one line
};

struct PaymentProducerOptions {
  // librdkafka properties (bootstrap.servers at least), applied after
  // txflag's defaults (enable.idempotence=true, acks=all, linger.ms=5,
  // log_level=2, so client errors come through on_client_error rather than
  // librdkafka's own stderr lines), so they may override anything but
  // enable.idempotence and acks. Default: none.
  KafkaProperties properties;
  // Topic to publish to (required). Created by the broker on first use if
  // it allows auto-creation.
  std::string topic;
  // Message value format. Default protobuf binary.
  PaymentEncoding encoding = PaymentEncoding::kProtobuf;
  // Called with client-level errors librdkafka reports while it retries
  // (a broker disconnected, all brokers down: usually kUnavailable), on the
  // thread calling Send(), Flush() or Poll(). These are not message failures
  // (those come back from Send() and Flush()); the producer keeps retrying.
  // Default: none (ignored).
  std::function<void(const absl::Status&)> on_client_error;

  // InvalidArgument for an empty topic, no bootstrap.servers, or
  // enable.idempotence / acks set to anything but true / all.
  absl::Status Validate() const;
};

// The message key of `payment`: its debtor account, or its creditor account
// when the debtor's is empty (a cash deposit).
std::string_view PaymentKey(const txflag::v1::Payment& payment);

// `payment` as a message value in `encoding`.
absl::StatusOr<std::string> EncodePayment(const txflag::v1::Payment& payment,
                                          PaymentEncoding encoding);

class PaymentProducer {
 public:
  struct Stats {
    int64_t sent = 0;       // Send() calls accepted
    int64_t delivered = 0;  // acknowledged by the brokers (acks=all)
    int64_t failed = 0;     // definitively failed
  };

  // Creates the producer (no connection is made yet: the first Send() or
  // Flush() connects). InvalidArgument for bad options or a property
  // librdkafka rejects (naming the key).
  static absl::StatusOr<std::unique_ptr<PaymentProducer>> Create(
      const PaymentProducerOptions& options);

  PaymentProducer(const PaymentProducer&) = delete;
  PaymentProducer& operator=(const PaymentProducer&) = delete;
  ~PaymentProducer();

  // Queues `payment` for delivery. Waits (serving delivery reports) while
  // librdkafka's local queue is full. Returns the sticky delivery error if a
  // message already failed: kUnavailable for a broker or network problem
  // (message timed out, all brokers down), kAborted for a fatal producer
  // error (recreate the producer), kInvalidArgument for a message the
  // broker refuses, kNotFound for an unknown topic, and so on.
  absl::Status Send(const txflag::v1::Payment& payment);

  // Waits until every queued message is delivered or failed, at most
  // `timeout_ms` (negative: no limit beyond message.timeout.ms). Returns the
  // first delivery error as Send() does, DeadlineExceeded when messages are
  // still outstanding at the timeout, OK when all were delivered.
  absl::Status Flush(int64_t timeout_ms = -1);

  // Serves delivery reports without waiting (Send() does it too).
  void Poll();

  Stats stats() const;
  const std::string& topic() const;

 private:
  struct Impl;
  explicit PaymentProducer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace txflag::connectors::kafka

#endif  // TXFLAG_CONNECTORS_KAFKA_PAYMENT_PRODUCER_H_
