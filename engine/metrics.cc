#include "engine/metrics.h"

#include <algorithm>

namespace txflag::engine {

MetricsAccumulator::MetricsAccumulator(std::vector<std::string> rule_ids)
    : rule_ids_(std::move(rule_ids)) {}

void MetricsAccumulator::Add(const txflag::v1::Alert& alert) {
  ++alerts_;
  alerted_accounts_.insert(alert.account());
  for (const auto& rule : alert.rules()) {
    ++alerts_by_rule_[rule];
    accounts_by_rule_[rule].insert(alert.account());
  }
}

namespace {

RuleMetrics Score(std::string name, int64_t alerts,
                  const std::set<std::string>& accounts, const Labels* labels) {
  RuleMetrics m;
  m.rule = std::move(name);
  m.alerts = alerts;
  m.alerted_accounts = static_cast<int64_t>(accounts.size());
  if (labels == nullptr) return m;
  for (const auto& a : accounts)
    m.true_positives += labels->positives.contains(a);
  m.precision = m.alerted_accounts > 0
                    ? static_cast<double>(m.true_positives) / m.alerted_accounts
                    : 0;
  m.recall = labels->positives.empty()
                 ? 0
                 : static_cast<double>(m.true_positives) /
                       static_cast<double>(labels->positives.size());
  return m;
}

}  // namespace

BacktestReport MetricsAccumulator::Finish(const Labels* labels) const {
  BacktestReport report;
  report.labelled = labels != nullptr;
  if (labels != nullptr) {
    report.labelled_accounts = static_cast<int64_t>(labels->positives.size());
  }
  static const std::set<std::string> kNone;
  std::vector<std::string> ids = rule_ids_;
  for (const auto& [rule, unused] : alerts_by_rule_) {
    if (std::find(ids.begin(), ids.end(), rule) == ids.end())
      ids.push_back(rule);
  }
  for (const auto& id : ids) {
    auto a = alerts_by_rule_.find(id);
    auto acc = accounts_by_rule_.find(id);
    report.rules.push_back(
        Score(id, a == alerts_by_rule_.end() ? 0 : a->second,
              acc == accounts_by_rule_.end() ? kNone : acc->second, labels));
  }
  report.overall = Score("overall", alerts_, alerted_accounts_, labels);
  if (labels != nullptr) {
    std::map<std::string, TypologyMetrics> by_typology;
    for (const auto& [account, typologies] : labels->positives) {
      for (const auto& t : typologies) {
        TypologyMetrics& m = by_typology[t];
        m.typology = t;
        ++m.labelled_accounts;
        m.alerted += alerted_accounts_.contains(account);
      }
    }
    for (auto& [t, m] : by_typology) {
      m.recall = m.labelled_accounts > 0
                     ? static_cast<double>(m.alerted) / m.labelled_accounts
                     : 0;
      report.typologies.push_back(m);
    }
  }
  return report;
}

}  // namespace txflag::engine
