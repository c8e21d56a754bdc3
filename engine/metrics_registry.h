// File: engine/metrics_registry.h
//
// Operational metrics for the streaming engine, rendered in the Prometheus
// text exposition format (version 0.0.4). No I/O here: `txflag run` serves
// RenderPrometheusText() over HTTP (connectors/http_server.h).
//
//   MetricsRegistry registry;
//   TXFLAG_ASSIGN_OR_RETURN(
//       Counter * alerts,
//       registry.GetCounter("txflag_alerts_total", "Alerts produced, by rule.",
//                           {{"rule", "ad_payments"}}));
//   alerts->Increment();
//   TXFLAG_ASSIGN_OR_RETURN(
//       Histogram * latency,
//       registry.GetHistogram("txflag_rule_evaluation_seconds",
//                             "Rule evaluation latency.",
//                             RuleEvaluationBucketsSeconds()));
//   latency->Observe(0.00042);
//   std::string text = registry.RenderPrometheusText();
//
// Thread safety: Get*() and RenderPrometheusText() take the registry's mutex;
// Counter, Gauge and Histogram updates are lock-free atomics and may run on
// any thread. The returned pointers stay valid as long as the registry. Get*()
// is meant for set-up (once per series), not for the hot path.
#ifndef TXFLAG_ENGINE_METRICS_REGISTRY_H_
#define TXFLAG_ENGINE_METRICS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace txflag::engine {

// Label name/value pairs of one series. Order does not matter: the registry
// sorts them by name, so {{"a","1"},{"b","2"}} and {{"b","2"},{"a","1"}} are
// the same series.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class Counter {
 public:
  void Increment(uint64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (consumer lag, state size).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets. A value v falls into the first
// bucket whose upper bound b satisfies v <= b (Prometheus' `le`), or into the
// implicit +Inf bucket. NaN observations are ignored.
class Histogram {
 public:
  // `upper_bounds`: finite and strictly increasing (checked by the registry).
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double v);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Cumulative counts, one per upper bound plus the +Inf bucket last.
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> upper_bounds_;
  // Non-cumulative, size upper_bounds_.size() + 1.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

// Suggested buckets, in seconds: rule evaluation of one payment (1 us to
// 100 ms) and end-to-end latency, payment timestamp to alert produced (1 ms to
// 60 s).
std::vector<double> RuleEvaluationBucketsSeconds();
std::vector<double> EndToEndBucketsSeconds();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The series `name{labels}`, created on first use; later calls with the same
  // name and labels return the same object. Errors: InvalidArgument for a bad
  // metric or label name (Prometheus' [a-zA-Z_:][a-zA-Z0-9_:]* and
  // [a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix, no "le" on a histogram), a label
  // given twice, or bad buckets; FailedPrecondition when `name` is already
  // registered with another type, another help text or other buckets.
  absl::StatusOr<Counter*> GetCounter(std::string_view name,
                                      std::string_view help,
                                      MetricLabels labels = {});
  absl::StatusOr<Gauge*> GetGauge(std::string_view name, std::string_view help,
                                  MetricLabels labels = {});
  absl::StatusOr<Histogram*> GetHistogram(std::string_view name,
                                          std::string_view help,
                                          std::vector<double> upper_bounds,
                                          MetricLabels labels = {});

  // Every metric family in name order, each with # HELP and # TYPE lines and
  // its series in label order; histograms as _bucket{le="..."} (cumulative,
  // ending with le="+Inf"), _sum and _count. Label values and help text are
  // escaped (\\, \" and \n). Ends with a newline unless empty.
  std::string RenderPrometheusText() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family;

  // The family `name`, created if new; checks type, help and buckets.
  absl::StatusOr<Family*> GetFamily(std::string_view name,
                                    std::string_view help, Type type,
                                    const std::vector<double>* upper_bounds)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_
      ABSL_GUARDED_BY(mu_);
};

// Exposed for tests and the HTTP layer: a label value escaped for the text
// format, and a sample value as Prometheus writes it ("+Inf", "-Inf", "NaN",
// otherwise the shortest decimal that reads back to the same double).
std::string EscapeLabelValue(std::string_view value);
std::string FormatMetricValue(double v);

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_METRICS_REGISTRY_H_
