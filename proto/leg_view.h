// File: proto/leg_view.h
//
// LegView: a txflag.v1.RepartitionLeg (proto/repartition.proto), the
// message stage 1 of `txflag run` writes to the internal repartition topic
// for each payment leg, as string_views into the Kafka value, and its writer.
// The hot path of repartition mode writes two legs and reads two per
// payment: building them by hand keeps protobuf messages and, since the leg
// no longer travels in Kafka headers, librdkafka's per-header allocations out
// of it.
//
//   std::string value;
//   AppendLegWire({LegSide::kDebit, "payments/3@17", bytes}, &value);
//   LegView leg;
//   RepartitionLeg scratch;  // for the uncommon forms protobuf reads
//   if (ReadLeg(value, &leg, &scratch)) {
//     ... leg.payment is `bytes` ...
//   }
#ifndef TXFLAG_PROTO_LEG_VIEW_H_
#define TXFLAG_PROTO_LEG_VIEW_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/repartition.pb.h"

namespace txflag::v1 {

enum class LegSide : int32_t {
  kDebit = RepartitionLeg::DEBIT,
  kCredit = RepartitionLeg::CREDIT,
  kIdleMarker = RepartitionLeg::IDLE_MARKER,
};

struct LegView {
  LegSide side = LegSide::kDebit;
  std::string_view source;   // "<input topic>/<partition>@<offset>"
  std::string_view payment;  // a Payment in protobuf binary; empty: none
};

// Appends `leg` in protobuf binary to *out: the bytes
// RepartitionLeg::SerializeToString writes for it (fields in number order,
// empty ones left out).
void AppendLegWire(const LegView& leg, std::string* out);

// Reads a RepartitionLeg from `bytes` into *leg (whose views then point into
// `bytes`, or into `scratch`). True when `bytes` is a RepartitionLeg whose side
// is DEBIT, CREDIT or IDLE_MARKER and whose source is not empty. The common
// form (each known field at most once, as serializers write it) is read by
// hand; anything else goes to protobuf, whose verdict counts (it may parse
// into `scratch`, which must then outlive *leg).
bool ReadLeg(std::string_view bytes, LegView* leg, RepartitionLeg* scratch);

}  // namespace txflag::v1

#endif  // TXFLAG_PROTO_LEG_VIEW_H_
