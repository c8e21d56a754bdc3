#include "connectors/kafka/payment_producer.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "connectors/kafka/internal/producer.h"
#include "google/protobuf/util/json_util.h"

namespace txflag::connectors::kafka {

std::string_view PaymentKey(const txflag::v1::Payment& payment) {
  return payment.debtor_account().empty() ? payment.creditor_account()
                                          : payment.debtor_account();
}

absl::StatusOr<std::string> EncodePayment(const txflag::v1::Payment& payment,
                                          PaymentEncoding encoding) {
  std::string out;
  if (encoding == PaymentEncoding::kProtobuf) {
    if (!payment.SerializeToString(&out)) {
      return absl::InternalError(absl::StrCat(
          "payment '", payment.id(), "': protobuf serialization failed"));
    }
    return out;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = true;
  auto status =
      google::protobuf::util::MessageToJsonString(payment, &out, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("payment '", payment.id(), "': JSON serialization: ",
                     Av(std::string_view(status.message().data(),
                                         status.message().size()))));
  }
  return out;
}

absl::Status PaymentProducerOptions::Validate() const {
  return internal::ValidateProducerConfig(properties, topic,
                                          "payment producer");
}

struct PaymentProducer::Impl {
  PaymentEncoding encoding = PaymentEncoding::kProtobuf;
  std::string value;  // reused encoding buffer
  std::unique_ptr<internal::Producer> producer;
};

absl::StatusOr<std::unique_ptr<PaymentProducer>> PaymentProducer::Create(
    const PaymentProducerOptions& options) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->encoding = options.encoding;
  internal::ProducerConfig config;
  config.properties = options.properties;
  config.topic = options.topic;
  config.client_id = "txflag-producer";
  config.role = "payment producer";
  config.on_client_error = options.on_client_error;
  TXFLAG_ASSIGN_OR_RETURN(impl->producer, internal::Producer::Create(config));
  return std::unique_ptr<PaymentProducer>(new PaymentProducer(std::move(impl)));
}

PaymentProducer::PaymentProducer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

PaymentProducer::~PaymentProducer() = default;

const std::string& PaymentProducer::topic() const {
  return impl_->producer->topic();
}

PaymentProducer::Stats PaymentProducer::stats() const {
  const internal::Producer::Stats s = impl_->producer->stats();
  Stats out;
  out.sent = s.sent;
  out.delivered = s.delivered;
  out.failed = s.failed;
  return out;
}

void PaymentProducer::Poll() { impl_->producer->Poll(); }

absl::Status PaymentProducer::Send(const txflag::v1::Payment& payment) {
  Impl& impl = *impl_;
  if (absl::Status error = impl.producer->first_error(); !error.ok()) {
    return error;
  }
  std::string& value = impl.value;
  value.clear();
  if (impl.encoding == PaymentEncoding::kProtobuf) {
    if (!payment.SerializeToString(&value)) {
      return absl::InternalError(absl::StrCat(
          "payment '", payment.id(), "': protobuf serialization failed"));
    }
  } else {
    TXFLAG_ASSIGN_OR_RETURN(value, EncodePayment(payment, impl.encoding));
  }
  return impl.producer->Produce(PaymentKey(payment), value, "payment",
                                payment.id());
}

absl::Status PaymentProducer::Flush(int64_t timeout_ms) {
  return impl_->producer->Flush(timeout_ms);
}

}  // namespace txflag::connectors::kafka
