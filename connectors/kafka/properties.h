// File: connectors/kafka/properties.h
//
// Kafka client settings as librdkafka spells them ("bootstrap.servers",
// "security.protocol", "linger.ms", ...): txflag passes them through
// unchanged instead of mirroring them field by field, so anything librdkafka
// supports (SASL, TLS, tuning) works against a real cluster. See librdkafka's
// CONFIGURATION.md for the keys.
//
//   KafkaProperties props;
//   for (const std::string& kv : flags) {   // "-X linger.ms=20"
//     TXFLAG_ASSIGN_OR_RETURN(props.emplace_back(), ParseKafkaProperty(kv));
//   }
#ifndef TXFLAG_CONNECTORS_KAFKA_PROPERTIES_H_
#define TXFLAG_CONNECTORS_KAFKA_PROPERTIES_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace txflag::connectors::kafka {

// (librdkafka key, value) pairs, applied in order (a later one wins).
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// "key=value" -> {key, value} (the value may itself hold '='; spaces around
// the key are trimmed). InvalidArgument when there is no '=' or the key is
// empty. Whether librdkafka knows the key is checked when a client is made.
absl::StatusOr<std::pair<std::string, std::string>> ParseKafkaProperty(
    std::string_view key_value);

}  // namespace txflag::connectors::kafka

#endif  // TXFLAG_CONNECTORS_KAFKA_PROPERTIES_H_
