#include "engine/metrics_registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace txflag::engine {
namespace {

bool IsNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (allow_colon && c == ':');
}

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty() || !IsNameStart(name[0], allow_colon)) return false;
  for (char c : name) {
    if (!IsNameStart(c, allow_colon) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// HELP text escapes only backslash and newline.
std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="1",b="2"}`, with `extra` (the histogram's le) appended; "" when both
// are empty.
std::string RenderLabels(const MetricLabels& labels,
                         std::string_view extra_name = {},
                         std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view name, std::string_view value) {
    if (!first) out += ',';
    first = false;
    absl::StrAppend(&out, Av(name), "=\"", EscapeLabelValue(value), "\"");
  };
  for (const auto& [name, value] : labels) add(name, value);
  if (!extra_name.empty()) add(extra_name, extra_value);
  out += '}';
  return out;
}

absl::Status CheckLabels(std::string_view metric, MetricLabels& labels,
                         bool histogram) {
  std::sort(labels.begin(), labels.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& name = labels[i].first;
    if (!IsValidName(name, /*allow_colon=*/false) || name.starts_with("__")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", Av(metric), ": invalid label name '", name, "'"));
    }
    if (histogram && name == "le") {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", Av(metric), ": label 'le' is reserved for histograms"));
    }
    if (i > 0 && labels[i - 1].first == name) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", Av(metric), ": label '", name, "' given twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";  // Cannot happen with 64 bytes.
  return std::string(buf, end);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  // First bound >= v: v <= bound, the `le` semantics.
  size_t i = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) -
             upper_bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(upper_bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

std::vector<double> RuleEvaluationBucketsSeconds() {
  return {0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005,
          0.0001,   0.00025,   0.0005,   0.001,   0.0025,   0.005,
          0.01,     0.025,     0.05,     0.1};
}

std::vector<double> EndToEndBucketsSeconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
          0.5,   1,      2.5,   5,    10,    30,   60};
}

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  Type type;
  std::vector<double> upper_bounds;  // Histograms only.
  // Exactly one of these is used, by type. Keys are sorted label lists.
  std::map<MetricLabels, std::unique_ptr<Counter>> counters;
  std::map<MetricLabels, std::unique_ptr<Gauge>> gauges;
  std::map<MetricLabels, std::unique_ptr<Histogram>> histograms;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

absl::StatusOr<MetricsRegistry::Family*> MetricsRegistry::GetFamily(
    std::string_view name, std::string_view help, Type type,
    const std::vector<double>* upper_bounds) {
  static constexpr std::string_view kTypeNames[] = {"counter", "gauge",
                                                    "histogram"};
  auto it = families_.find(name);
  if (it != families_.end()) {
    Family& f = *it->second;
    if (f.type != type) {
      return absl::FailedPreconditionError(
          absl::StrCat("metric ", Av(name), " is already registered as a ",
                       Av(kTypeNames[static_cast<int>(f.type)]), ", not a ",
                       Av(kTypeNames[static_cast<int>(type)])));
    }
    if (f.help != help) {
      return absl::FailedPreconditionError(
          absl::StrCat("metric ", Av(name),
                       " is already registered with another help text"));
    }
    if (upper_bounds != nullptr && f.upper_bounds != *upper_bounds) {
      return absl::FailedPreconditionError(absl::StrCat(
          "metric ", Av(name), " is already registered with other buckets"));
    }
    return &f;
  }
  if (!IsValidName(name, /*allow_colon=*/true)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid metric name '", Av(name), "'"));
  }
  if (upper_bounds != nullptr) {
    for (size_t i = 0; i < upper_bounds->size(); ++i) {
      double b = (*upper_bounds)[i];
      if (!std::isfinite(b) || (i > 0 && b <= (*upper_bounds)[i - 1])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "metric ", Av(name),
            ": bucket bounds must be finite and strictly increasing (+Inf is "
            "implicit); got ",
            FormatMetricValue(b), " at index ", i));
      }
    }
  }
  auto family = std::make_unique<Family>();
  family->name = std::string(name);
  family->help = std::string(help);
  family->type = type;
  if (upper_bounds != nullptr) family->upper_bounds = *upper_bounds;
  Family* raw = family.get();
  families_.emplace(std::string(name), std::move(family));
  return raw;
}

absl::StatusOr<Counter*> MetricsRegistry::GetCounter(std::string_view name,
                                                     std::string_view help,
                                                     MetricLabels labels) {
  absl::Status s = CheckLabels(name, labels, /*histogram=*/false);
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Family*> f = GetFamily(name, help, Type::kCounter, nullptr);
  if (!f.ok()) return f.status();
  std::unique_ptr<Counter>& c = (*f)->counters[std::move(labels)];
  if (c == nullptr) c = std::make_unique<Counter>();
  return c.get();
}

absl::StatusOr<Gauge*> MetricsRegistry::GetGauge(std::string_view name,
                                                 std::string_view help,
                                                 MetricLabels labels) {
  absl::Status s = CheckLabels(name, labels, /*histogram=*/false);
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Family*> f = GetFamily(name, help, Type::kGauge, nullptr);
  if (!f.ok()) return f.status();
  std::unique_ptr<Gauge>& g = (*f)->gauges[std::move(labels)];
  if (g == nullptr) g = std::make_unique<Gauge>();
  return g.get();
}

absl::StatusOr<Histogram*> MetricsRegistry::GetHistogram(
    std::string_view name, std::string_view help,
    std::vector<double> upper_bounds, MetricLabels labels) {
  absl::Status s = CheckLabels(name, labels, /*histogram=*/true);
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Family*> f =
      GetFamily(name, help, Type::kHistogram, &upper_bounds);
  if (!f.ok()) return f.status();
  std::unique_ptr<Histogram>& h = (*f)->histograms[std::move(labels)];
  if (h == nullptr) h = std::make_unique<Histogram>(std::move(upper_bounds));
  return h.get();
}

std::string MetricsRegistry::RenderPrometheusText() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(family->help), "\n");
    switch (family->type) {
      case Type::kCounter:
        absl::StrAppend(&out, "# TYPE ", name, " counter\n");
        for (const auto& [labels, c] : family->counters) {
          absl::StrAppend(&out, name, RenderLabels(labels), " ", c->value(),
                          "\n");
        }
        break;
      case Type::kGauge:
        absl::StrAppend(&out, "# TYPE ", name, " gauge\n");
        for (const auto& [labels, g] : family->gauges) {
          absl::StrAppend(&out, name, RenderLabels(labels), " ",
                          FormatMetricValue(g->value()), "\n");
        }
        break;
      case Type::kHistogram:
        absl::StrAppend(&out, "# TYPE ", name, " histogram\n");
        for (const auto& [labels, h] : family->histograms) {
          // One snapshot of the counts, so _count equals the +Inf bucket.
          std::vector<uint64_t> cumulative = h->CumulativeCounts();
          const std::vector<double>& bounds = h->upper_bounds();
          for (size_t i = 0; i < cumulative.size(); ++i) {
            std::string le =
                i < bounds.size() ? FormatMetricValue(bounds[i]) : "+Inf";
            absl::StrAppend(&out, name, "_bucket",
                            RenderLabels(labels, "le", le), " ", cumulative[i],
                            "\n");
          }
          absl::StrAppend(&out, name, "_sum", RenderLabels(labels), " ",
                          FormatMetricValue(h->sum()), "\n");
          absl::StrAppend(&out, name, "_count", RenderLabels(labels), " ",
                          cumulative.back(), "\n");
        }
        break;
    }
  }
  return out;
}

}  // namespace txflag::engine
