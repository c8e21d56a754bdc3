// File: engine/metrics.h
//
// Back-test metrics: alerts against labelled accounts. An account is a true
// positive for a rule when the rule alerted on it and it is labelled; precision
// is true positives / alerted accounts, recall is true positives / labelled
// accounts (all of them: a rule that targets one typology is still measured
// against every positive, and per typology below).
//
//   MetricsAccumulator metrics(rule_ids);
//   processor->ForEachAlert([&](const Alert& a) { metrics.Add(a); });
//   BacktestReport report = metrics.Finish(&labels);
#ifndef TXFLAG_ENGINE_METRICS_H_
#define TXFLAG_ENGINE_METRICS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "proto/alert.pb.h"

namespace txflag::engine {

// Labelled (positive) accounts and their typologies ("SE", "FL", "DB", or
// "laundering" for AMLworld's transaction labels).
struct Labels {
  absl::flat_hash_map<std::string, std::set<std::string>> positives;
};

struct RuleMetrics {
  std::string rule;    // rule id, or "overall"
  int64_t alerts = 0;  // distinct alerts (final revisions)
  int64_t alerted_accounts = 0;
  int64_t true_positives = 0;  // alerted accounts that are labelled
  double precision = 0;        // true_positives / alerted_accounts
  double recall = 0;           // true_positives / labelled accounts
};

struct TypologyMetrics {
  std::string typology;
  int64_t labelled_accounts = 0;
  int64_t alerted = 0;  // of those, alerted by any rule
  double recall = 0;
};

struct BacktestReport {
  bool labelled = false;  // metrics below are meaningful only with labels
  int64_t labelled_accounts = 0;
  std::vector<RuleMetrics> rules;  // in pack order
  RuleMetrics overall;
  std::vector<TypologyMetrics> typologies;
};

class MetricsAccumulator {
 public:
  // `rule_ids`: every enabled rule, in pack order (rules without alerts are
  // reported with zeros).
  explicit MetricsAccumulator(std::vector<std::string> rule_ids);
  void Add(const txflag::v1::Alert& alert);
  // `labels` may be null (no metrics, counts only).
  BacktestReport Finish(const Labels* labels) const;

 private:
  std::vector<std::string> rule_ids_;
  std::map<std::string, int64_t> alerts_by_rule_;
  std::map<std::string, std::set<std::string>> accounts_by_rule_;
  std::set<std::string> alerted_accounts_;
  int64_t alerts_ = 0;
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_METRICS_H_
