// File: connectors/kafka/internal/rdkafka_handles.h
//
// RAII owners for librdkafka's C objects, and the translation of its error
// codes into absl::Status. Private to connectors/kafka: nothing above
// connectors/ may include a librdkafka header.
//
//   TXFLAG_ASSIGN_OR_RETURN(ConfPtr conf, NewConf({{"acks", "all"}}));
//   TXFLAG_ASSIGN_OR_RETURN(HandlePtr rk,
//                           NewHandle(RD_KAFKA_PRODUCER, std::move(conf)));
//   // rk is destroyed (rd_kafka_destroy) when it goes out of scope.
//
// Every owner is a std::unique_ptr with a deleter, so an object is destroyed
// exactly once and ownership moves are explicit (rd_kafka_new() takes the
// conf only on success: NewHandle() handles that).
#ifndef TXFLAG_CONNECTORS_KAFKA_INTERNAL_RDKAFKA_HANDLES_H_
#define TXFLAG_CONNECTORS_KAFKA_INTERNAL_RDKAFKA_HANDLES_H_

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txflag::connectors::kafka::internal {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct TopicPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const {
    rd_kafka_message_destroy(message);
  }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const {
    rd_kafka_queue_destroy(queue);
  }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* error) const {
    rd_kafka_error_destroy(error);
  }
};

using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using TopicPartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;

// The absl::StatusCode for a librdkafka error code: kUnavailable for a broker
// or network problem that may go away (transport, timeouts, leader changes,
// all brokers down), kNotFound for an unknown topic or partition,
// kInvalidArgument for bad configuration or a message the broker refuses,
// kUnauthenticated / kPermissionDenied for SASL/TLS and ACL failures,
// kResourceExhausted for a full local queue, kAborted for a fatal
// (idempotence/fencing) error after which the client must be recreated,
// kCancelled for purged or destroyed messages, kOk for NO_ERROR, kUnknown for
// anything else.
absl::StatusCode StatusCodeFor(rd_kafka_resp_err_t err);

// absl::Status for `err`: "<context>: <librdkafka's description> (<error
// name>)". OK for RD_KAFKA_RESP_ERR_NO_ERROR.
absl::Status KafkaStatus(rd_kafka_resp_err_t err, std::string_view context);

// The same for an rd_kafka_error_t (which it does not take ownership of);
// OK for nullptr.
absl::Status KafkaStatus(const rd_kafka_error_t* error,
                         std::string_view context);

// A new configuration with `properties` (librdkafka key, value) applied in
// order. InvalidArgument naming the key for an unknown property or a bad
// value.
absl::StatusOr<ConfPtr> NewConf(
    const std::vector<std::pair<std::string, std::string>>& properties);

// Sets one property on `conf`. InvalidArgument naming the key on failure.
absl::Status SetConf(rd_kafka_conf_t* conf, std::string_view key,
                     std::string_view value);

// Creates a client of `type` from `conf` (consumed either way).
// InvalidArgument with librdkafka's reason when it refuses the configuration.
absl::StatusOr<HandlePtr> NewHandle(rd_kafka_type_t type, ConfPtr conf);

}  // namespace txflag::connectors::kafka::internal

#endif  // TXFLAG_CONNECTORS_KAFKA_INTERNAL_RDKAFKA_HANDLES_H_
