// File: proto/payment_view.h
//
// PaymentView: a txflag.v1.Payment's fields as plain values and string_views
// into someone else's bytes, for the streaming hot path, where building a
// protobuf message per payment (a dozen string assignments, twice: once when
// a payment arrives, once when the reorder buffer releases it) was a fifth of
// the engine's CPU. Rules, checks and the reorder buffer read payments
// through it; a Payment message converts implicitly, so code holding one
// (file readers, tests) passes it as before.
//
//   txflag::v1::PaymentView view;
//   if (txflag::v1::ParsePaymentWire(kafka_value, &view)) {
//     ... view.creditor_account (points into kafka_value) ...
//   } else {
//     ... Payment::ParseFromArray decides: valid but unusual, or invalid ...
//   }
//
// A view does not own its strings: it is valid as long as the message or
// bytes it was made from.
#ifndef TXFLAG_PROTO_PAYMENT_VIEW_H_
#define TXFLAG_PROTO_PAYMENT_VIEW_H_

#include <cstdint>
#include <string_view>

#include "proto/payment.pb.h"

namespace txflag::v1 {

struct PaymentView {
  PaymentView() = default;
  // Views `p`'s fields (not a copy: `p` must outlive the view). Implicit,
  // like std::string_view from std::string.
  PaymentView(const Payment& p);  // NOLINT(google-explicit-constructor)

  // The message with these field values.
  void CopyTo(Payment* out) const;

  std::string_view id;
  bool has_timestamp = false;
  int64_t seconds = 0;  // timestamp.seconds
  int32_t nanos = 0;    // timestamp.nanos
  std::string_view debtor_account;
  std::string_view debtor_name;
  std::string_view debtor_country;
  std::string_view creditor_account;
  std::string_view creditor_name;
  std::string_view creditor_country;
  int64_t amount_minor = 0;
  std::string_view currency;
  // A Payment::Channel, or any other value the sender put there (proto3
  // enums are open).
  int32_t channel = 0;
  uint32_t mcc = 0;
  std::string_view reference;
};

// Reads `bytes`, a txflag.v1.Payment in protobuf binary, into *view (whose
// strings then point into `bytes`) and returns true, when `bytes` is in the
// form every protobuf serializer writes: each field known to this schema,
// with its declared wire type, at most once (the timestamp's seconds and
// nanos likewise), strings valid UTF-8, in any field order. Returns false for
// anything else, which may still be a valid message (unknown fields, a field
// repeated, an over-long varint) or may be invalid: the caller then parses
// with protobuf, whose verdict and values are the reference. When this
// returns true, Payment::ParseFromArray(bytes) succeeds with the same values
// (payment_view_test checks this on random and corrupted messages).
bool ParsePaymentWire(std::string_view bytes, PaymentView* view);

}  // namespace txflag::v1

#endif  // TXFLAG_PROTO_PAYMENT_VIEW_H_
