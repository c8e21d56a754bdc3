// File: rules/leg.h
//
// A Leg is one side of a payment as the account it belongs to sees it: the
// debtor's outgoing leg or the creditor's incoming leg. The engine builds both
// legs of every payment once (currency conversion, local time) and hands each
// to the rules of the account it belongs to.
#ifndef TXFLAG_RULES_LEG_H_
#define TXFLAG_RULES_LEG_H_

#include <cstdint>
#include <string>

#include "proto/payment.pb.h"
#include "proto/rule_pack.pb.h"

namespace txflag::rules {

struct Leg {
  // Event time, Unix seconds UTC.
  int64_t ts = 0;
  // Amount in minor units of the rule pack's base currency (> 0).
  int64_t amount = 0;
  // Stable hash (Fnv1a64) of the counterparty's identity: its account, or
  // "name:<name>" when it has none, or "cash" for a cash leg with neither.
  uint64_t counterparty = 0;
  // Local calendar day (days since 1970-01-01) and hour (0-23) in the rule
  // pack's time zone.
  int32_t local_day = 0;
  uint8_t local_hour = 0;
  // INCOMING: the account is the creditor; OUTGOING: the debtor.
  txflag::v1::Direction direction = txflag::v1::INCOMING;
  txflag::v1::Payment::Channel channel =
      txflag::v1::Payment::CHANNEL_UNSPECIFIED;
  uint16_t mcc = 0;
  // Bits a rule set when it accepted the leg (rule-private meaning, e.g. "the
  // counterparty is on the watchlist"); persisted with the leg.
  uint8_t flags = 0;
  // The payment's id, for evidence.
  std::string payment_id;
};

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_LEG_H_
