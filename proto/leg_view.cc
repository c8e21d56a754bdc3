#include "proto/leg_view.h"

#include "base/strings.h"
#include "proto/wire.h"

namespace txflag::v1 {
namespace {

constexpr int kSideField = 1;
constexpr int kSourceField = 2;
constexpr int kPaymentField = 3;

bool KnownSide(int64_t side) {
  return side == RepartitionLeg::DEBIT || side == RepartitionLeg::CREDIT ||
         side == RepartitionLeg::IDLE_MARKER;
}

// The hand-read common form; false for anything else.
bool ReadLegWire(std::string_view bytes, LegView* leg) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  uint32_t seen = 0;
  int64_t side = 0;
  while (p < end) {
    uint64_t tag = 0;
    if (!wire::ReadVarint(&p, end, 5, &tag)) return false;
    const uint64_t field = tag >> 3;
    const int wire_type = static_cast<int>(tag & 7);
    if (field < kSideField || field > kPaymentField ||
        (seen & (1u << field)) != 0) {
      return false;
    }
    seen |= 1u << field;
    if (field == kSideField) {
      uint64_t value = 0;
      if (wire_type != wire::kVarint ||
          !wire::ReadVarint(&p, end, 10, &value)) {
        return false;
      }
      side = static_cast<int64_t>(value);
      continue;
    }
    if (wire_type != wire::kLengthDelimited) return false;
    std::string_view value;
    if (!wire::ReadLength(&p, end, &value)) return false;
    (field == kSourceField ? leg->source : leg->payment) = value;
  }
  if (!KnownSide(side) || !IsValidUtf8(leg->source)) return false;
  leg->side = static_cast<LegSide>(side);
  return true;
}

}  // namespace

void AppendLegWire(const LegView& leg, std::string* out) {
  wire::AppendVarint(kSideField << 3 | wire::kVarint, out);
  wire::AppendVarint(static_cast<uint64_t>(leg.side), out);
  if (!leg.source.empty()) {
    wire::AppendLengthDelimited(kSourceField, leg.source, out);
  }
  if (!leg.payment.empty()) {
    wire::AppendLengthDelimited(kPaymentField, leg.payment, out);
  }
}

bool ReadLeg(std::string_view bytes, LegView* leg, RepartitionLeg* scratch) {
  *leg = LegView();
  if (!ReadLegWire(bytes, leg)) {
    // Protobuf's verdict on the uncommon forms (a field repeated, unknown
    // fields from a newer writer, over-long varints); invalid UTF-8 in
    // `source` fails here too.
    if (!scratch->ParseFromArray(bytes.data(),
                                 static_cast<int>(bytes.size())) ||
        !KnownSide(scratch->side())) {
      return false;
    }
    leg->side = static_cast<LegSide>(scratch->side());
    leg->source = scratch->source();
    leg->payment = scratch->payment();
  }
  return !leg->source.empty();
}

}  // namespace txflag::v1
