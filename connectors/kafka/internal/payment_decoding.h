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
// record->view is reset.
void DecodePaymentMessage(std::string_view value, PaymentEncoding encoding,
                          engine::SourceRecord* record);

// As DecodePaymentMessage, with the same verdicts and values, but a protobuf
// binary value in the form serializers write (txflag::v1::ParsePaymentWire)
// that passes the checks becomes record->view, pointing into `value`, and
// record->payment is left as it was: no message is built. For callers that
// process the record while `value` (the Kafka message) is alive.
void DecodePaymentMessageAsView(std::string_view value,
                                PaymentEncoding encoding,
                                engine::SourceRecord* record);

}  // namespace txflag::connectors::kafka::internal

#endif  // TXFLAG_CONNECTORS_KAFKA_INTERNAL_PAYMENT_DECODING_H_
