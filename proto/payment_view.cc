#include "proto/payment_view.h"

#include <cstring>

#include "base/strings.h"
#include "proto/wire.h"

namespace txflag::v1 {

PaymentView::PaymentView(const Payment& p)
    : id(p.id()),
      has_timestamp(p.has_timestamp()),
      seconds(p.timestamp().seconds()),
      nanos(p.timestamp().nanos()),
      debtor_account(p.debtor_account()),
      debtor_name(p.debtor_name()),
      debtor_country(p.debtor_country()),
      creditor_account(p.creditor_account()),
      creditor_name(p.creditor_name()),
      creditor_country(p.creditor_country()),
      amount_minor(p.amount_minor()),
      currency(p.currency()),
      channel(p.channel()),
      mcc(p.mcc()),
      reference(p.reference()) {}

void PaymentView::CopyTo(Payment* out) const {
  out->Clear();
  auto set = [](std::string_view v, std::string* s) {
    s->assign(v.data(), v.size());
  };
  set(id, out->mutable_id());
  if (has_timestamp) {
    out->mutable_timestamp()->set_seconds(seconds);
    out->mutable_timestamp()->set_nanos(nanos);
  }
  set(debtor_account, out->mutable_debtor_account());
  set(debtor_name, out->mutable_debtor_name());
  set(debtor_country, out->mutable_debtor_country());
  set(creditor_account, out->mutable_creditor_account());
  set(creditor_name, out->mutable_creditor_name());
  set(creditor_country, out->mutable_creditor_country());
  out->set_amount_minor(amount_minor);
  set(currency, out->mutable_currency());
  out->set_channel(static_cast<Payment::Channel>(channel));
  out->set_mcc(mcc);
  set(reference, out->mutable_reference());
}

namespace {

using wire::kLengthDelimited;
using wire::kVarint;
using wire::ReadLength;
using wire::ReadVarint;

// Most of a payment's strings are short and ASCII: checked inline, without
// the call (nine per payment) into the general UTF-8 validator.
inline bool IsAscii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t any = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    any |= word;
  }
  for (; n > 0; ++p, --n) any |= static_cast<unsigned char>(*p);
  return (any & 0x8080808080808080ULL) == 0;
}

bool ParseTimestamp(std::string_view bytes, PaymentView* view) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  bool seen_seconds = false, seen_nanos = false;
  while (p < end) {
    uint64_t tag = 0, value = 0;
    if (!ReadVarint(&p, end, 5, &tag)) return false;
    if ((tag & 7) != kVarint) return false;
    if (!ReadVarint(&p, end, 10, &value)) return false;
    if ((tag >> 3) == 1 && !seen_seconds) {
      seen_seconds = true;
      view->seconds = static_cast<int64_t>(value);
    } else if ((tag >> 3) == 2 && !seen_nanos) {
      seen_nanos = true;
      view->nanos = static_cast<int32_t>(value);
    } else {
      return false;
    }
  }
  return true;
}

// The string fields by field number (payment.proto); nullptr for the rest.
constexpr std::string_view PaymentView::*kTextFields[14] = {
    nullptr,
    &PaymentView::id,                // 1
    nullptr,                         // 2 timestamp
    &PaymentView::debtor_account,    // 3
    &PaymentView::debtor_name,       // 4
    &PaymentView::debtor_country,    // 5
    &PaymentView::creditor_account,  // 6
    &PaymentView::creditor_name,     // 7
    &PaymentView::creditor_country,  // 8
    nullptr,                         // 9 amount_minor
    &PaymentView::currency,          // 10
    nullptr,                         // 11 channel
    nullptr,                         // 12 mcc
    &PaymentView::reference,         // 13
};

}  // namespace

bool ParsePaymentWire(std::string_view bytes, PaymentView* view) {
  *view = PaymentView();
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  uint32_t seen = 0;  // bit n: field n read
  while (p < end) {
    uint64_t tag = 0;
    if (!ReadVarint(&p, end, 5, &tag)) return false;
    const uint64_t field = tag >> 3;
    const int wire_type = static_cast<int>(tag & 7);
    if (field == 0 || field > 13 || (seen & (1u << field)) != 0) return false;
    seen |= 1u << field;
    std::string_view* text =
        kTextFields[field] != nullptr ? &(view->*kTextFields[field]) : nullptr;
    if (text != nullptr || field == 2) {
      if (wire_type != kLengthDelimited) return false;
      std::string_view value;
      if (!ReadLength(&p, end, &value)) return false;
      if (field == 2) {
        if (!ParseTimestamp(value, view)) return false;
        view->has_timestamp = true;
      } else {
        if (!IsAscii(value) && !IsValidUtf8(value)) return false;
        *text = value;
      }
      continue;
    }
    // 9 amount_minor (int64), 11 channel (enum), 12 mcc (uint32).
    if (wire_type != kVarint) return false;
    uint64_t value = 0;
    if (!ReadVarint(&p, end, 10, &value)) return false;
    if (field == 9) {
      view->amount_minor = static_cast<int64_t>(value);
    } else if (field == 11) {
      view->channel = static_cast<int32_t>(value);
    } else {
      view->mcc = static_cast<uint32_t>(value);
    }
  }
  return true;
}

}  // namespace txflag::v1
