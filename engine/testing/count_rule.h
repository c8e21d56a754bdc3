// File: engine/testing/count_rule.h
//
// Test helpers shared by engine and connector tests: a trivial rule and a
// compiled pack built around it, so the engine can be driven without the
// real rules (header-only; tests only).
#ifndef TXFLAG_ENGINE_TESTING_COUNT_RULE_H_
#define TXFLAG_ENGINE_TESTING_COUNT_RULE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "rules/rule.h"
#include "rules/rule_pack.h"

namespace txflag::engine::testing {

using txflag::v1::Payment;

// Fires when an account has at least `min` legs of `direction` in one day.
class CountRule : public rules::Rule {
 public:
  CountRule(std::string id, txflag::v1::Direction direction, int min)
      : id_(std::move(id)), direction_(direction), min_(min) {}
  const std::string& id() const override { return id_; }
  const std::vector<std::string>& typologies() const override {
    return typologies_;
  }
  double base_score() const override { return 50; }
  int64_t window_seconds() const override { return 86400; }
  bool Accepts(const txflag::v1::PaymentView& payment,
               rules::Leg* leg) const override {
    return leg->direction == direction_;
  }
  std::optional<rules::Hit> Evaluate(
      const rules::Leg& leg, const rules::Window& window) const override {
    if (window.size() < static_cast<size_t>(min_)) return std::nullopt;
    rules::Hit hit;
    for (const auto& l : window.legs()) hit.legs.push_back(&l);
    txflag::v1::Aggregate a;
    a.set_name("payments");
    a.set_value(static_cast<double>(window.size()));
    a.set_threshold(min_);
    a.set_unit("count");
    hit.aggregates.push_back(a);
    hit.explanation = "many payments";
    hit.strength = static_cast<double>(window.size()) / min_;
    return hit;
  }

 private:
  std::string id_;
  txflag::v1::Direction direction_;
  int min_;
  std::vector<std::string> typologies_ = {"SE"};
};

inline rules::CompiledPack MakeCountPack(std::string hash = "sha256:test") {
  rules::CompiledPack pack;
  pack.proto.set_name("test");
  pack.proto.set_version("1");
  pack.stamp.set_name("test");
  pack.stamp.set_version("1");
  pack.stamp.set_content_hash(hash);
  pack.rules.push_back(
      std::make_unique<CountRule>("fan_in", txflag::v1::INCOMING, 3));
  pack.rules.push_back(
      std::make_unique<CountRule>("fan_out", txflag::v1::OUTGOING, 4));
  pack.rates = {{"DKK", 1.0}, {"EUR", 7.46}};
  absl::LoadTimeZone("Europe/Copenhagen", &pack.time_zone);
  pack.max_window_seconds = 86400;
  return pack;
}

}  // namespace txflag::engine::testing

#endif  // TXFLAG_ENGINE_TESTING_COUNT_RULE_H_
