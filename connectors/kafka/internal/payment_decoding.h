// File: connectors/kafka/internal/payment_decoding.h
//
// A Kafka message value as an engine record: a txflag.v1.Payment in protobuf
// binary or protobuf JSON, put through the file readers' checks
// (connectors/internal/payment_checks.h). Shared by KafkaPartitionSource and
// the stream runner. Private to connectors/kafka.
#ifndef TXFLAG_CONNECTORS_KAFKA_INTERNAL_PAYMENT_DECODING_H_
#define TXFLAG_CONNECTORS_KAFKA_INTERNAL_PAYMENT_DECODING_H_

#include <string_view>

#include "connectors/kafka/payment_producer.h"
#include "engine/source.h"

namespace txflag::connectors::kafka::internal {

// Fills record->kind, payment, reason and raw from `value` (location, label
// and legs are left alone). A value that does not parse or fails the checks
// becomes Kind::kReject with the reason and raw = the value bytes.
void DecodePaymentMessage(std::string_view value, PaymentEncoding encoding,
                          engine::SourceRecord* record);

}  // namespace txflag::connectors::kafka::internal

#endif  // TXFLAG_CONNECTORS_KAFKA_INTERNAL_PAYMENT_DECODING_H_
