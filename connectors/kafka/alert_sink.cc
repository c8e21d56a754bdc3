#include "connectors/kafka/alert_sink.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "connectors/kafka/internal/producer.h"
#include "google/protobuf/util/json_util.h"

namespace txflag::connectors::kafka {

absl::StatusOr<std::string> EncodeAlert(const txflag::v1::Alert& alert,
                                        AlertEncoding encoding) {
  std::string out;
  if (encoding == AlertEncoding::kProtobuf) {
    if (!alert.SerializeToString(&out)) {
      return absl::InternalError(absl::StrCat(
          "alert '", alert.alert_id(), "': protobuf serialization failed"));
    }
    return out;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = true;
  auto status =
      google::protobuf::util::MessageToJsonString(alert, &out, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("alert '", alert.alert_id(), "': JSON serialization: ",
                     Av(std::string_view(status.message().data(),
                                         status.message().size()))));
  }
  return out;
}

absl::Status KafkaAlertSinkOptions::Validate() const {
  return internal::ValidateProducerConfig(properties, topic, "alert producer");
}

struct KafkaAlertSink::Impl {
  AlertEncoding encoding = AlertEncoding::kProtobuf;
  int64_t flush_timeout_ms = -1;
  std::string value;  // reused encoding buffer
  std::unique_ptr<internal::Producer> producer;
};

absl::StatusOr<std::unique_ptr<KafkaAlertSink>> KafkaAlertSink::Create(
    const KafkaAlertSinkOptions& options) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->encoding = options.encoding;
  impl->flush_timeout_ms = options.flush_timeout_ms;
  internal::ProducerConfig config;
  config.properties = options.properties;
  config.topic = options.topic;
  config.client_id = "txflag-alerts";
  config.role = "alert producer";
  config.on_client_error = options.on_client_error;
  TXFLAG_ASSIGN_OR_RETURN(impl->producer, internal::Producer::Create(config));
  return std::unique_ptr<KafkaAlertSink>(new KafkaAlertSink(std::move(impl)));
}

KafkaAlertSink::KafkaAlertSink(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

KafkaAlertSink::~KafkaAlertSink() = default;

absl::Status KafkaAlertSink::Emit(const txflag::v1::Alert& alert) {
  Impl& impl = *impl_;
  if (alert.alert_id().empty()) {
    return absl::InvalidArgumentError(
        "alert sink: an alert without alert_id cannot be keyed");
  }
  if (absl::Status error = impl.producer->first_error(); !error.ok()) {
    return error;
  }
  impl.value.clear();
  if (impl.encoding == AlertEncoding::kProtobuf) {
    if (!alert.SerializeToString(&impl.value)) {
      return absl::InternalError(absl::StrCat(
          "alert '", alert.alert_id(), "': protobuf serialization failed"));
    }
  } else {
    TXFLAG_ASSIGN_OR_RETURN(impl.value, EncodeAlert(alert, impl.encoding));
  }
  return impl.producer->Produce(alert.alert_id(), impl.value, "alert",
                                alert.alert_id());
}

absl::Status KafkaAlertSink::Flush() {
  return impl_->producer->Flush(impl_->flush_timeout_ms);
}

int64_t KafkaAlertSink::position() const {
  return impl_->producer->last_sequence();
}

absl::Status KafkaAlertSink::WaitDelivered(int64_t position) {
  return impl_->producer->WaitDelivered(position, impl_->flush_timeout_ms);
}

KafkaAlertSink::Stats KafkaAlertSink::stats() const {
  const internal::Producer::Stats s = impl_->producer->stats();
  Stats out;
  out.emitted = s.sent;
  out.delivered = s.delivered;
  out.failed = s.failed;
  return out;
}

}  // namespace txflag::connectors::kafka
