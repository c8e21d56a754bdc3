#include "engine/metrics_registry.h"

#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::engine {
namespace {

using ::testing::HasSubstr;

TEST(MetricsRegistryTest, EmptyRendersNothing) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.RenderPrometheusText(), "");
}

TEST(MetricsRegistryTest, RendersExactText) {
  MetricsRegistry registry;
  absl::StatusOr<Counter*> ads =
      registry.GetCounter("txflag_alerts_total", "Alerts produced, by rule.",
                          {{"rule", "ad_payments"}});
  absl::StatusOr<Counter*> smurf =
      registry.GetCounter("txflag_alerts_total", "Alerts produced, by rule.",
                          {{"rule", "small_transfers"}});
  absl::StatusOr<Gauge*> lag = registry.GetGauge(
      "txflag_consumer_lag", "Records behind the high watermark.",
      {{"topic", "payments"}, {"partition", "3"}});
  absl::StatusOr<Counter*> consumed = registry.GetCounter(
      "txflag_payments_consumed_total", "Payments consumed.");
  absl::StatusOr<Histogram*> latency = registry.GetHistogram(
      "txflag_end_to_end_seconds", "Payment timestamp to alert produced.",
      {0.01, 0.1, 1});
  ASSERT_TRUE(ads.ok() && smurf.ok() && lag.ok() && consumed.ok() &&
              latency.ok());
  (*ads)->Increment();
  (*ads)->Increment(2);
  (*lag)->Set(42);
  (*lag)->Add(-0.5);
  (*consumed)->Increment(1000);
  (*latency)->Observe(0.005);
  (*latency)->Observe(0.25);
  (*latency)->Observe(3);

  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP txflag_alerts_total Alerts produced, by rule.\n"
            "# TYPE txflag_alerts_total counter\n"
            "txflag_alerts_total{rule=\"ad_payments\"} 3\n"
            "txflag_alerts_total{rule=\"small_transfers\"} 0\n"
            "# HELP txflag_consumer_lag Records behind the high watermark.\n"
            "# TYPE txflag_consumer_lag gauge\n"
            "txflag_consumer_lag{partition=\"3\",topic=\"payments\"} 41.5\n"
            "# HELP txflag_end_to_end_seconds Payment timestamp to alert "
            "produced.\n"
            "# TYPE txflag_end_to_end_seconds histogram\n"
            "txflag_end_to_end_seconds_bucket{le=\"0.01\"} 1\n"
            "txflag_end_to_end_seconds_bucket{le=\"0.1\"} 1\n"
            "txflag_end_to_end_seconds_bucket{le=\"1\"} 2\n"
            "txflag_end_to_end_seconds_bucket{le=\"+Inf\"} 3\n"
            "txflag_end_to_end_seconds_sum 3.255\n"
            "txflag_end_to_end_seconds_count 3\n"
            "# HELP txflag_payments_consumed_total Payments consumed.\n"
            "# TYPE txflag_payments_consumed_total counter\n"
            "txflag_payments_consumed_total 1000\n");
}

TEST(MetricsRegistryTest, SameSeriesReturnsSameObjectWhateverLabelOrder) {
  MetricsRegistry registry;
  absl::StatusOr<Gauge*> a =
      registry.GetGauge("g", "help", {{"a", "1"}, {"b", "2"}});
  absl::StatusOr<Gauge*> b =
      registry.GetGauge("g", "help", {{"b", "2"}, {"a", "1"}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  MetricsRegistry registry;
  absl::StatusOr<Counter*> c = registry.GetCounter(
      "x_total", "Help with \\ and\nnewline and \"quotes\".",
      {{"path", "C:\\dir\\\"f\"\n"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP x_total Help with \\\\ and\\nnewline and \"quotes\".\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"C:\\\\dir\\\\\\\"f\\\"\\n\"} 0\n");
}

TEST(MetricsRegistryTest, HistogramBucketEdges) {
  MetricsRegistry registry;
  absl::StatusOr<Histogram*> h =
      registry.GetHistogram("h_seconds", "h", {0.5, 1, 2}, {{"rule", "r"}});
  ASSERT_TRUE(h.ok());
  (*h)->Observe(0.5);  // On the bound: le="0.5" (v <= bound).
  (*h)->Observe(-1);   // Below the first bound: first bucket.
  (*h)->Observe(std::nextafter(1.0, 2.0));  // Just above 1: le="2".
  (*h)->Observe(2);                         // On the last bound.
  (*h)->Observe(2.0001);                    // Above the last bound: +Inf only.
  (*h)->Observe(std::numeric_limits<double>::infinity());   // +Inf bucket.
  (*h)->Observe(std::numeric_limits<double>::quiet_NaN());  // Ignored.
  EXPECT_EQ((*h)->CumulativeCounts(), (std::vector<uint64_t>{2, 2, 4, 6}));
  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP h_seconds h\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{rule=\"r\",le=\"0.5\"} 2\n"
            "h_seconds_bucket{rule=\"r\",le=\"1\"} 2\n"
            "h_seconds_bucket{rule=\"r\",le=\"2\"} 4\n"
            "h_seconds_bucket{rule=\"r\",le=\"+Inf\"} 6\n"
            "h_seconds_sum{rule=\"r\"} +Inf\n"
            "h_seconds_count{rule=\"r\"} 6\n");
}

TEST(MetricsRegistryTest, EmptyHistogramHasOnlyInfBucket) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.GetHistogram("h", "h", {}).ok());
  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\nh_count 0\n");
}

TEST(MetricsRegistryTest, FormatsValues) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(1.5), "1.5");
  EXPECT_EQ(FormatMetricValue(-2), "-2");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()),
            "-Inf");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsRegistryTest, RejectsBadNamesAndConflicts) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.GetCounter("1bad", "h").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.GetCounter("bad-name", "h").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.GetCounter("ns:ok_total", "h").ok());
  EXPECT_EQ(registry.GetCounter("c", "h", {{"__x", "1"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.GetCounter("c", "h", {{"a:b", "1"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry.GetCounter("c", "h", {{"a", "1"}, {"a", "2"}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.GetHistogram("h", "h", {1}, {{"le", "1"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.GetHistogram("h", "h", {1, 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.GetHistogram("h", "h", {2, 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry
          .GetHistogram("h", "h", {1, std::numeric_limits<double>::infinity()})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(registry.GetCounter("m", "help").ok());
  absl::Status s = registry.GetGauge("m", "help").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("already registered as a counter"));
  EXPECT_EQ(registry.GetCounter("m", "other help").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(registry.GetHistogram("hist", "h", {1, 2}).ok());
  EXPECT_EQ(registry.GetHistogram("hist", "h", {1, 3}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Failed registrations left nothing behind.
  EXPECT_EQ(
      registry.RenderPrometheusText(),
      "# HELP hist h\n# TYPE hist histogram\n"
      "hist_bucket{le=\"1\"} 0\nhist_bucket{le=\"2\"} 0\n"
      "hist_bucket{le=\"+Inf\"} 0\nhist_sum 0\nhist_count 0\n"
      "# HELP m help\n# TYPE m counter\nm 0\n"
      "# HELP ns:ok_total h\n# TYPE ns:ok_total counter\nns:ok_total 0\n");
}

TEST(MetricsRegistryTest, SuggestedBucketsAreValid) {
  MetricsRegistry registry;
  EXPECT_TRUE(
      registry.GetHistogram("a", "a", RuleEvaluationBucketsSeconds()).ok());
  EXPECT_TRUE(registry.GetHistogram("b", "b", EndToEndBucketsSeconds()).ok());
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAndRendering) {
  MetricsRegistry registry;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry] {
      Counter* c = *registry.GetCounter("c_total", "c", {{"k", "v"}});
      Gauge* g = *registry.GetGauge("g", "g");
      Histogram* h = *registry.GetHistogram("h", "h", {0.5});
      for (int i = 0; i < kPerThread; ++i) {
        c->Increment();
        g->Add(1);
        h->Observe(i % 2 == 0 ? 0.25 : 1);
        if (i % 1000 == 0) registry.RenderPrometheusText();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ((*registry.GetCounter("c_total", "c", {{"k", "v"}}))->value(),
            kThreads * kPerThread);
  EXPECT_EQ((*registry.GetGauge("g", "g"))->value(), kThreads * kPerThread);
  EXPECT_EQ((*registry.GetHistogram("h", "h", {0.5}))->CumulativeCounts(),
            (std::vector<uint64_t>{kThreads * kPerThread / 2,
                                   kThreads * kPerThread}));
}

}  // namespace
}  // namespace txflag::engine
