// File: rules/testing/rule_driver.h
//
// Test helper: feeds payments to one Rule exactly as the engine does (see
// rules/rule.h: Accepts -> EvictOlderThan -> Add -> Evaluate) and keeps what
// it reported. Legs are built from payments the simple way: counterparty is
// Fnv1a64 of the other side's account ("name:<name>" without one), local day
// and hour are UTC.
//
//   RuleDriver d(*MakeRule(config, 2));
//   auto hit = d.Feed({.id = "p1", .ts = At(0, 21), .debtor = "A",
//                      .creditor = "ME", .amount = 25000},
//                     txflag::v1::INCOMING);
#ifndef TXFLAG_RULES_TESTING_RULE_DRIVER_H_
#define TXFLAG_RULES_TESTING_RULE_DRIVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/hash.h"
#include "proto/payment.pb.h"
#include "rules/leg.h"
#include "rules/rule.h"
#include "rules/window.h"

namespace txflag::rules::testing {

// Unix seconds of 2024-03-04 (a Monday) 00:00 UTC + `day` days, `hour` hours
// and `minute` minutes.
inline int64_t At(int day, int hour, int minute = 0) {
  return 1709510400 + int64_t{day} * 86400 + hour * 3600 + minute * 60;
}

// A payment in test-friendly form. Amounts are minor units of the base
// currency (DKK øre: 25000 = 250.00 DKK).
struct Pay {
  std::string id;
  int64_t ts = 0;
  std::string debtor;
  std::string debtor_name;
  std::string creditor;
  std::string creditor_name;
  int64_t amount = 0;
  txflag::v1::Payment::Channel channel = txflag::v1::Payment::MOBILE;
  uint32_t mcc = 0;
  std::string reference;
};

// What a rule reported, copied out of the window.
struct Fired {
  std::vector<std::string> payment_ids;  // Hit.legs, oldest first
  std::vector<txflag::v1::Aggregate> aggregates;
  std::string explanation;
  double strength = 0;

  const txflag::v1::Aggregate* aggregate(const std::string& name) const {
    for (const auto& a : aggregates) {
      if (a.name() == name) return &a;
    }
    return nullptr;
  }
};

inline txflag::v1::Payment ToPayment(const Pay& p) {
  txflag::v1::Payment payment;
  payment.set_id(p.id);
  payment.mutable_timestamp()->set_seconds(p.ts);
  payment.set_debtor_account(p.debtor);
  payment.set_debtor_name(p.debtor_name);
  payment.set_creditor_account(p.creditor);
  payment.set_creditor_name(p.creditor_name);
  payment.set_amount_minor(p.amount);
  payment.set_currency("DKK");
  payment.set_channel(p.channel);
  payment.set_mcc(p.mcc);
  payment.set_reference(p.reference);
  return payment;
}

inline uint64_t CounterpartyKey(const std::string& account,
                                const std::string& name) {
  if (!account.empty()) return Fnv1a64(account);
  if (!name.empty()) return Fnv1a64("name:" + name);
  return Fnv1a64("cash");
}

// The leg of `p` seen by the debtor (OUTGOING) or creditor (INCOMING).
inline Leg ToLeg(const Pay& p, txflag::v1::Direction direction) {
  Leg leg;
  leg.ts = p.ts;
  leg.amount = p.amount;
  leg.counterparty = direction == txflag::v1::INCOMING
                         ? CounterpartyKey(p.debtor, p.debtor_name)
                         : CounterpartyKey(p.creditor, p.creditor_name);
  int64_t day = p.ts >= 0 ? p.ts / 86400 : (p.ts - 86399) / 86400;
  leg.local_day = static_cast<int32_t>(day);
  leg.local_hour = static_cast<uint8_t>((p.ts - day * 86400) / 3600);
  leg.direction = direction;
  leg.channel = p.channel;
  leg.mcc = static_cast<uint16_t>(p.mcc);
  leg.payment_id = p.id;
  return leg;
}

class RuleDriver {
 public:
  explicit RuleDriver(std::unique_ptr<Rule> rule) : rule_(std::move(rule)) {}

  // One leg through the rule, as the engine drives it. Returns the hit, if
  // any; `accepted` (when given) says whether the rule took the leg.
  std::optional<Fired> Feed(const Pay& p, txflag::v1::Direction direction,
                            bool* accepted = nullptr) {
    txflag::v1::Payment payment = ToPayment(p);
    Leg leg = ToLeg(p, direction);
    const bool ok = rule_->Accepts(payment, &leg);
    if (accepted != nullptr) *accepted = ok;
    if (!ok) return std::nullopt;
    window_.EvictOlderThan(leg.ts - rule_->window_seconds() + 1);
    window_.Add(std::move(leg));
    std::optional<Hit> hit = rule_->Evaluate(window_.legs().back(), window_);
    if (!hit.has_value()) return std::nullopt;
    Fired fired;
    for (const Leg* l : hit->legs) fired.payment_ids.push_back(l->payment_id);
    fired.aggregates = std::move(hit->aggregates);
    fired.explanation = std::move(hit->explanation);
    fired.strength = hit->strength;
    ++hits_;
    last_ = fired;
    return fired;
  }

  // Feeds all of `payments`; returns how many of them made the rule fire.
  int FeedAll(const std::vector<Pay>& payments,
              txflag::v1::Direction direction) {
    int n = 0;
    for (const Pay& p : payments) n += Feed(p, direction).has_value() ? 1 : 0;
    return n;
  }

  const Rule& rule() const { return *rule_; }
  const Window& window() const { return window_; }
  int hits() const { return hits_; }
  const std::optional<Fired>& last() const { return last_; }

 private:
  std::unique_ptr<Rule> rule_;
  Window window_;
  int hits_ = 0;
  std::optional<Fired> last_;
};

}  // namespace txflag::rules::testing

#endif  // TXFLAG_RULES_TESTING_RULE_DRIVER_H_
