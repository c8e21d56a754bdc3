#include "connectors/kafka/internal/payment_decoding.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "connectors/internal/payment_checks.h"
#include "google/protobuf/util/json_util.h"
#include "proto/payment_view.h"

namespace txflag::connectors::kafka::internal {

void DecodePaymentMessage(std::string_view value, PaymentEncoding encoding,
                          engine::SourceRecord* record) {
  std::string reason;
  record->view.reset();
  record->payment.Clear();
  if (value.empty()) {
    reason = "empty message value (not a txflag.v1.Payment)";
  } else if (encoding == PaymentEncoding::kProtobuf) {
    if (!record->payment.ParseFromArray(value.data(),
                                        static_cast<int>(value.size()))) {
      reason = "not a txflag.v1.Payment in protobuf binary";
    }
  } else if (!connectors::internal::IsValidUtf8(value)) {
    reason = "invalid UTF-8";
  } else {
    google::protobuf::util::JsonParseOptions json;
    json.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(value.data(), value.size()),
        &record->payment, json);
    if (!status.ok()) {
      reason = absl::StrCat("not a txflag.v1.Payment in protobuf JSON: ",
                            Av(std::string_view(status.message().data(),
                                                status.message().size())));
    }
  }
  if (reason.empty())
    reason = connectors::internal::CheckPayment(record->payment);
  if (reason.empty()) {
    record->kind = engine::SourceRecord::Kind::kPayment;
    record->reason.clear();
    record->raw.clear();
  } else {
    record->kind = engine::SourceRecord::Kind::kReject;
    record->reason = std::move(reason);
    record->raw.assign(value.data(), value.size());
    record->payment.Clear();
  }
}

void DecodePaymentMessageAsView(std::string_view value,
                                PaymentEncoding encoding,
                                engine::SourceRecord* record) {
  txflag::v1::PaymentView view;
  if (encoding == PaymentEncoding::kProtobuf && !value.empty() &&
      txflag::v1::ParsePaymentWire(value, &view) &&
      connectors::internal::CheckPayment(view).empty()) {
    record->kind = engine::SourceRecord::Kind::kPayment;
    record->view = view;
    record->reason.clear();
    record->raw.clear();
    return;
  }
  // Unusual or invalid: protobuf and the checks decide, as for any value.
  DecodePaymentMessage(value, encoding, record);
}

}  // namespace txflag::connectors::kafka::internal
