#include "connectors/kafka/stream_runner.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "connectors/kafka/changelog_store.h"
#include "connectors/kafka/dead_letter_sink.h"
#include "connectors/kafka/internal/payment_decoding.h"
#include "connectors/kafka/internal/producer.h"
#include "connectors/kafka/internal/rdkafka_handles.h"
#include "proto/leg_view.h"

namespace txflag::connectors::kafka {
namespace {

using Clock = std::chrono::steady_clock;
using engine::Legs;
using engine::SourceRecord;
using txflag::v1::LegSide;

constexpr std::string_view kTaskCheckpointTag = "kafka-task1:";
constexpr std::string_view kInputCheckpointTag = "kafka-in1:";
constexpr int kMetadataTimeoutMs = 10000;
// Stage 1 pauses an input partition holding this many unemitted records.
constexpr size_t kMaxQueuedPerInput = 20000;
// kInProcess pauses partitions that run ahead while the processor's reorder
// buffer holds more payments than this (some 100 bytes each).
constexpr size_t kMaxBufferedInProcess = 2000000;
// Messages taken from the consumer's queue at a time (Runner::Run).
constexpr size_t kPollGroup = 32;
// Idle markers are repeated this often while an input partition stays idle
// (a task opened since, e.g. after a restart, has not seen the last one).
constexpr int64_t kIdleMarkerRepeatMs = 5000;
// Confirming that a silent partition is idle asks the brokers for its high
// watermark (a blocking round trip on the processing thread). After a query
// that fails, none is tried for a backoff that starts at
// kIdleQueryBackoffMs and doubles with each failure in a row up to
// kMaxIdleQueryBackoffMs, so a broker that is down or answers later than
// the timeout cannot keep the thread blocked (or SIGTERM waiting) for long:
// at worst 500 ms in every 16 s.
constexpr int kIdleQueryTimeoutMs = 500;
constexpr int64_t kIdleQueryBackoffMs = 1000;
constexpr int64_t kMaxIdleQueryBackoffMs = 16000;
// How long a producer flush waits before the runner logs and checks *stop.
constexpr int64_t kFlushSliceMs = 5000;

int64_t MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t)
      .count();
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string_view HeaderValue(const rd_kafka_message_t* message,
                             const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return {};
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return {};
  }
  return std::string_view(static_cast<const char*>(value), size);
}

std::string_view Payload(const rd_kafka_message_t* message) {
  if (message->payload == nullptr) return {};
  return std::string_view(static_cast<const char*>(message->payload),
                          message->len);
}

// The metrics of a run; every pointer is null without a registry.
struct Metrics {
  engine::Counter* input_messages = nullptr;
  engine::Counter* legs_produced = nullptr;
  engine::Counter* processed = nullptr;
  engine::Counter* duplicates = nullptr;
  engine::Counter* repeated_legs = nullptr;
  engine::Counter* dead_letters = nullptr;
  engine::Counter* revisions = nullptr;
  engine::Counter* commits = nullptr;
  engine::Counter* rebalances = nullptr;
  engine::Gauge* assigned = nullptr;
  engine::Gauge* active_accounts = nullptr;
  engine::Gauge* buffered = nullptr;
  engine::Gauge* state_bytes = nullptr;
  engine::Histogram* rule_seconds = nullptr;
  engine::Histogram* alert_latency = nullptr;
  engine::Histogram* commit_seconds = nullptr;
  engine::MetricsRegistry* registry = nullptr;
  // Per rule and per partition series, made on first use.
  std::map<std::string, engine::Counter*> alerts_by_rule;
  std::map<std::pair<std::string, int32_t>, engine::Gauge*> lag_gauges;

  absl::Status Init(engine::MetricsRegistry* r) {
    registry = r;
    if (r == nullptr) return absl::OkStatus();
    TXFLAG_ASSIGN_OR_RETURN(
        input_messages,
        r->GetCounter("txflag_input_messages_total",
                      "Messages consumed from the input topic."));
    TXFLAG_ASSIGN_OR_RETURN(
        legs_produced,
        r->GetCounter("txflag_repartition_legs_produced_total",
                      "Payment legs produced to the repartition topic."));
    TXFLAG_ASSIGN_OR_RETURN(
        processed, r->GetCounter("txflag_records_processed_total",
                                 "Payments (in-process mode) or legs "
                                 "(repartition mode) given to the engine."));
    TXFLAG_ASSIGN_OR_RETURN(
        duplicates,
        r->GetCounter("txflag_duplicate_legs_skipped_total",
                      "Repartitioned legs seen before (replayed after a "
                      "crash) and skipped."));
    TXFLAG_ASSIGN_OR_RETURN(
        repeated_legs,
        r->GetCounter("txflag_repeated_legs_skipped_total",
                      "Legs of a payment delivered twice upstream (the same "
                      "id, time, direction, counterparty and amount as one "
                      "the account's state holds) and skipped."));
    TXFLAG_ASSIGN_OR_RETURN(
        dead_letters, r->GetCounter("txflag_dead_letters_total",
                                    "Records sent to the dead-letter topic."));
    TXFLAG_ASSIGN_OR_RETURN(revisions,
                            r->GetCounter("txflag_alert_revisions_total",
                                          "Alert revisions produced."));
    TXFLAG_ASSIGN_OR_RETURN(
        commits, r->GetCounter("txflag_commits_total",
                               "Commits of state, alerts and offsets."));
    TXFLAG_ASSIGN_OR_RETURN(
        rebalances, r->GetCounter("txflag_rebalances_total",
                                  "Partition assignments and revocations."));
    TXFLAG_ASSIGN_OR_RETURN(
        assigned, r->GetGauge("txflag_assigned_partitions",
                              "Partitions assigned to this process."));
    TXFLAG_ASSIGN_OR_RETURN(
        active_accounts,
        r->GetGauge("txflag_active_accounts",
                    "Accounts with state in memory, over all tasks."));
    TXFLAG_ASSIGN_OR_RETURN(
        buffered, r->GetGauge("txflag_reorder_buffered",
                              "Records waiting for the event-time watermark."));
    TXFLAG_ASSIGN_OR_RETURN(
        state_bytes,
        r->GetGauge("txflag_state_bytes",
                    "Approximate bytes of state in the local store."));
    TXFLAG_ASSIGN_OR_RETURN(
        rule_seconds,
        r->GetHistogram("txflag_rule_evaluation_seconds",
                        "Time to evaluate one rule on one leg (sampled 1 in "
                        "64 evaluations).",
                        engine::RuleEvaluationBucketsSeconds()));
    TXFLAG_ASSIGN_OR_RETURN(
        alert_latency,
        r->GetHistogram(
            "txflag_alert_latency_seconds",
            "From the Kafka timestamp (input produce time) of the record "
            "whose arrival made the engine process the payment that raised a "
            "revision (that payment itself with allowed lateness 0) to the "
            "revision being handed to the alert producer.",
            engine::EndToEndBucketsSeconds()));
    TXFLAG_ASSIGN_OR_RETURN(
        commit_seconds,
        r->GetHistogram("txflag_commit_seconds",
                        "Duration of a commit (producer flushes, state and "
                        "offsets).",
                        engine::EndToEndBucketsSeconds()));
    return absl::OkStatus();
  }

  void CountAlert(const std::string& rule) {
    if (registry == nullptr) return;
    auto it = alerts_by_rule.find(rule);
    if (it == alerts_by_rule.end()) {
      auto counter =
          registry->GetCounter("txflag_alerts_total",
                               "New alerts raised, by rule.", {{"rule", rule}});
      if (!counter.ok()) return;
      it = alerts_by_rule.emplace(rule, *counter).first;
    }
    it->second->Increment();
  }

  void SetLag(const std::string& topic, int32_t partition, double lag) {
    if (registry == nullptr) return;
    auto key = std::make_pair(topic, partition);
    auto it = lag_gauges.find(key);
    if (it == lag_gauges.end()) {
      auto gauge = registry->GetGauge(
          "txflag_consumer_lag",
          "Messages between this process's position and the partition's "
          "high watermark.",
          {{"topic", topic}, {"partition", absl::StrCat(partition)}});
      if (!gauge.ok()) return;
      it = lag_gauges.emplace(key, *gauge).first;
    }
    it->second->Set(lag);
  }
};

template <typename T>
void Inc(T* metric, uint64_t n = 1) {
  if (metric != nullptr) metric->Increment(n);
}

// Wraps the Kafka alert sink: counts, metrics, the on_alert hook.
class MeteredAlertSink : public engine::AlertSink {
 public:
  MeteredAlertSink(engine::AlertSink* inner, Metrics* metrics,
                   StreamRunSummary* summary,
                   std::function<void(const txflag::v1::Alert&)> on_alert)
      : inner_(inner),
        metrics_(metrics),
        summary_(summary),
        on_alert_(std::move(on_alert)) {}

  // Kafka timestamp (ms) of the record being processed, for latency.
  void set_current_timestamp_ms(int64_t ms) { current_ms_ = ms; }

  absl::Status Emit(const txflag::v1::Alert& alert) override {
    TXFLAG_RETURN_IF_ERROR(inner_->Emit(alert));
    ++summary_->alert_revisions;
    Inc(metrics_->revisions);
    if (alert.revision() == 1) {
      ++summary_->alerts_raised;
      metrics_->CountAlert(alert.rules_size() > 0 ? alert.rules(0) : "");
    }
    if (metrics_->alert_latency != nullptr && current_ms_ > 0) {
      const int64_t now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
      metrics_->alert_latency->Observe(
          std::max<int64_t>(0, now_ms - current_ms_) / 1000.0);
    }
    if (on_alert_) on_alert_(alert);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return inner_->Flush(); }

 private:
  engine::AlertSink* inner_;
  Metrics* metrics_;
  StreamRunSummary* summary_;
  std::function<void(const txflag::v1::Alert&)> on_alert_;
  int64_t current_ms_ = 0;
};

// Wraps the dead-letter sink: counts, and logs the location (never the raw
// record or the reason, which may hold account numbers).
class MeteredRejectSink : public engine::RejectSink {
 public:
  MeteredRejectSink(KafkaDeadLetterSink* inner, Metrics* metrics,
                    StreamRunSummary* summary)
      : inner_(inner), metrics_(metrics), summary_(summary) {}
  absl::Status Write(std::string_view location, std::string_view reason,
                     std::string_view raw) override {
    TXFLAG_RETURN_IF_ERROR(inner_->Write(location, reason, raw));
    ++summary_->dead_letters;
    Inc(metrics_->dead_letters);
    // The reason's first words ("late:", "no exchange rate", "not a ...")
    // carry no account data; cut at the first ':' or quote to be sure.
    std::string_view kind = reason.substr(0, reason.find_first_of(":'\""));
    kind = kind.substr(0, 60);
    LogEvent(
        LogLevel::kDebug, "dead_letter",
        {{"location", std::string(location)}, {"kind", std::string(kind)}});
    // At info level, one line per 10 s at most: a burst of bad records
    // must not flood the log.
    ++unlogged_;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_info_ >= std::chrono::seconds(10)) {
      LogEvent(LogLevel::kInfo, "dead_letters",
               {{"count", absl::StrCat(unlogged_)},
                {"last_location", std::string(location)},
                {"last_kind", std::string(kind)}});
      unlogged_ = 0;
      last_info_ = now;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Flush() override { return inner_->Flush(); }
  // Tasks share one sink; its count is not per task, so nothing to rewind
  // (dead letters are at-least-once, see dead_letter_sink.h).
  absl::Status Restore(std::string_view) override { return absl::OkStatus(); }

 private:
  KafkaDeadLetterSink* inner_;
  Metrics* metrics_;
  StreamRunSummary* summary_;
  int64_t unlogged_ = 0;
  std::chrono::steady_clock::time_point last_info_{};
};

// A record read from an input partition, waiting for stage 1 to emit it in
// event-time order.
struct Pending {
  // The input message's value, copied: record.view points into it, and a
  // payment in canonical protobuf form is forwarded as it is.
  std::string value;
  SourceRecord record;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;  // Kafka message timestamp
  int64_t event_ts = 0;      // payment timestamp; min() for rejects
};

struct InputPartition {
  int32_t partition = 0;
  // Owned; recycled through Runner::free_pending_ (a decoded payment holds a
  // dozen strings: reusing them keeps the allocator out of the hot path).
  std::deque<std::unique_ptr<Pending>> queue;
  bool caught_up = false;     // end of partition reached, nothing since
  int64_t emitted_next = -1;  // offset after the last emitted record
  int64_t next = -1;          // offset after the last record read
  // kInProcess after a restart: offsets below this were read before it and
  // are being read again (see StartInProcess).
  int64_t replay_until = -1;
  // High watermark asked of the brokers at assignment (the consumer's
  // cached one is unknown until its first fetch).
  int64_t known_high = -1;
  // When the last message arrived (or the partition was assigned).
  Clock::time_point last_activity = Clock::now();
  // When the last idle marker for it went out (none since its last record).
  std::optional<Clock::time_point> idle_marker_sent;
  // Newest payment timestamp read from it; min() before the first.
  int64_t last_event_ts = std::numeric_limits<int64_t>::min();
  bool paused = false;
  // kInProcess: told to the processor as idle (SetStreamIdle).
  bool stream_idle = false;
  // The brokers said, after it went silent, that they hold nothing of it
  // past `next` (Runner::ConfirmIdle); cleared by its next message.
  bool idle_confirmed = false;
};

// One engine task: a repartition partition (or, in-process, everything).
struct Task {
  int32_t partition = -1;  // -1: the in-process task
  std::unique_ptr<ChangelogStore> changelog;
  std::unique_ptr<engine::Processor> processor;
  int64_t next_offset = -1;  // repartition offset to read next
  // Per source (input) partition: the last leg taken, offset * 2 + leg.
  std::map<int32_t, int64_t> last_seq;
  bool caught_up = false;
  int64_t processed = 0;
  // Legs this process produced to / read from the partition since the task
  // opened (for backpressure).
  int64_t produced_here = 0;
  int64_t consumed_here = 0;
};

}  // namespace

int32_t RepartitionOf(std::string_view account, int32_t partitions) {
  return static_cast<int32_t>(Fnv1a64(account) %
                              static_cast<uint64_t>(std::max(partitions, 1)));
}

absl::Status StreamRunnerOptions::Validate() const {
  if (internal::FindProperty(properties, "bootstrap.servers").empty() &&
      internal::FindProperty(properties, "metadata.broker.list").empty()) {
    return absl::InvalidArgumentError(
        "no Kafka brokers given (--brokers or -X bootstrap.servers=...)");
  }
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"input topic", &input_topic},
        {"alerts topic", &alerts_topic},
        {"dead-letter topic", &dead_letter_topic},
        {"group", &group}}) {
    if (value->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("no ", name, " given"));
    }
  }
  if (pack == nullptr || store == nullptr || stop == nullptr) {
    return absl::InvalidArgumentError(
        "stream runner: pack, store and stop are required");
  }
  if (allowed_lateness_seconds < 0) {
    return absl::InvalidArgumentError("allowed lateness must be >= 0");
  }
  if (commit_interval_ms <= 0) {
    return absl::InvalidArgumentError("commit interval must be positive");
  }
  if (max_input_idle_ms < 0 || max_repartition_lag <= 0) {
    return absl::InvalidArgumentError(
        "max input idle must be >= 0 and max repartition lag positive");
  }
  if (internal_partitions < 0) {
    return absl::InvalidArgumentError("internal partitions must be >= 0");
  }
  return absl::OkStatus();
}

namespace {

class Runner {
 public:
  Runner(const StreamRunnerOptions& options, StreamRunSummary* summary)
      : o_(options), summary_(summary) {
    if (o_.repartition_topic.empty()) {
      o_.repartition_topic = o_.group + ".repartition";
    }
    if (o_.changelog_topic.empty())
      o_.changelog_topic = o_.group + ".changelog";
    bootstrap_ =
        std::string(internal::FindProperty(o_.properties, "bootstrap.servers"));
  }

  ~Runner() {
    IgnoreError(AwaitCommit());
    if (consumer_ != nullptr && !closed_) Close();
  }

  absl::Status Run();

 private:
  bool repartition() const { return o_.mode == StreamMode::kRepartition; }
  bool stopping() const { return o_.stop->load(); }

  KafkaProperties ProducerProperties() const {
    KafkaProperties p = {{"message.timeout.ms", "0"}};
    p.insert(p.end(), o_.properties.begin(), o_.properties.end());
    return p;
  }
  void OnClientError(std::string_view who, const absl::Status& status);

  absl::Status Setup();
  // A consumer of group `group` (client.id `client_id`), with the rebalance
  // callback in repartition mode.
  absl::StatusOr<internal::HandlePtr> CreateConsumer(const char* client_id);
  absl::StatusOr<int32_t> PartitionCount(const std::string& topic);
  absl::Status EnsureTopic(const std::string& topic, int32_t partitions,
                           bool compacted);
  absl::Status StartInProcess();

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason,
                      void* opaque);
  // Rebalance of consumer `rk` (stage 1's or stage 2's).
  absl::Status Assign(rd_kafka_t* rk,
                      rd_kafka_topic_partition_list_t* partitions);
  absl::Status Revoke(rd_kafka_t* rk);
  absl::StatusOr<std::unique_ptr<Task>> OpenTask(int32_t partition);

  absl::Status OnMessage(const rd_kafka_message_t* message);
  absl::Status OnInputMessage(const rd_kafka_message_t* message);
  // The leg in a repartition message: its value, a RepartitionLeg, or (as
  // txflag wrote them up to commit 7b28626) a Payment with the side and source
  // in kLegHeader / kSourceHeader headers. nullopt for anything else. The views
  // point into the message or into leg_scratch_.
  std::optional<txflag::v1::LegView> ReadLegMessage(
      const rd_kafka_message_t* message);
  // Handles (OnMessage) what `queue` has fetched, up to about `max`
  // messages, in groups of kPollGroup read at once; adds the count to
  // *taken. Returns OnMessage's first error.
  absl::Status ReadFetched(rd_kafka_queue_t* queue, int max, int* taken);
  absl::Status OnRepartitionMessage(const rd_kafka_message_t* message);
  // kInProcess: a consumed message goes straight to the processor, whose
  // per-partition watermark (Processor::Options::streams) orders it.
  absl::Status ProcessInputDirectly(InputPartition* input,
                                    const rd_kafka_message_t* message);
  // kInProcess, every 50 ms: marks caught-up silent partitions idle, and
  // bounds the reorder buffer by pausing partitions that run ahead.
  absl::Status InProcessHousekeeping();
  absl::Status EmitReady(bool force);
  // For an input partition with nothing queued: the newest payment
  // timestamp the others may emit before it brings more (max(): no limit;
  // min(): wait).
  int64_t EmitLimit(const InputPartition& input) const;
  // Whether the brokers are known to hold messages of `input` not fetched
  // yet (its cached high watermark, or the one read at assignment, is past
  // the next offset): such a partition is slow, not idle.
  bool HasUnfetched(const InputPartition& input) const;
  // Whether `input` is idle: nothing known unfetched (HasUnfetched), caught
  // up, silent for max_input_idle_ms, and the brokers, asked once per
  // silence, hold nothing of it past `next`. The consumer's
  // cached high watermark is not enough: it is only as new as the
  // partition's last fetch, and while the consumer's queue is full (or
  // still holds a backlog of other partitions) that can be seconds old,
  // with the partition's next payments already on the brokers. Marking such
  // a partition idle lets the watermark pass them, and they come in late.
  // False (not idle, so the watermark waits) when the brokers cannot be
  // asked.
  bool ConfirmIdle(InputPartition* input);
  absl::Status Emit(InputPartition* input, Pending* pending);
  absl::Status ProcessInTask(Task* task, SourceRecord* record,
                             int64_t timestamp_ms);

  // `sync_offsets`: wait for the group to store the offsets (on revocation
  // and shutdown, so the next owner starts where this one stopped); the
  // periodic commits send them without waiting (the state and its offsets
  // are already committed; the group's copy is for stage 1's restart point
  // and lag monitoring, and a lost one only repeats legs the tasks skip).
  absl::Status Commit(bool sync_offsets = false);
  // kInProcess: the same order, with the waiting off the processing thread
  // (see "Commits in in-process mode" in docs/streaming.md). Here, the
  // processor's batch is built and the acknowledgement positions taken;
  // CommitJob waits for the alerts and dead letters up to those positions,
  // writes the batch and commits the input offsets, on its own thread. At
  // most one job runs: the next commit (or `wait`) waits for it first.
  struct CommitJob {
    engine::StateBatch batch;
    int64_t alert_position = 0;
    int64_t dead_letter_position = 0;
    internal::TopicPartitionListPtr offsets;
  };
  absl::Status CommitInProcess(bool wait);
  absl::Status RunCommitJob(CommitJob* job);
  // Waits for the commit job in flight, if any; its status.
  absl::Status AwaitCommit();
  // The input offsets emitted so far (stage 1's; in-process, consumed), for
  // the group.
  internal::TopicPartitionListPtr InputOffsets() const;
  absl::Status FlushWaiting(std::string_view what,
                            const std::function<absl::Status()>& flush);
  std::string TaskCheckpoint(const Task& task) const;
  absl::Status RestoreTaskCheckpoint(Task* task);
  std::string InProcessCheckpoint() const;
  void Backpressure();
  // For each input partition caught up and silent for max_input_idle_ms: an
  // idle marker to every repartition partition (again every
  // kIdleMarkerRepeatMs while it stays idle), so tasks stop waiting for it.
  // A dead process sends none: its partitions hold the watermark until
  // their new owner resumes them, so a takeover makes nothing late.
  absl::Status SendIdleMarkers();
  void UpdateGauges();
  bool Idle() const;
  absl::Status Finish(bool drain);
  void Close();

  StreamRunnerOptions o_;
  StreamRunSummary* summary_;
  std::string bootstrap_;
  Metrics metrics_;
  // Stage 1's consumer (the input topic; everything in in-process mode),
  // and stage 2's (the repartition topic). Two consumers in one group, so
  // each has its own fetch queue: a backlog of fetched input never stands in
  // front of the legs the tasks need next.
  internal::HandlePtr consumer_;
  // consumer_'s queue (rd_kafka_queue_get_consumer), for batch reads.
  internal::QueuePtr consumer_queue_;
  internal::HandlePtr task_consumer_;
  internal::QueuePtr task_queue_;  // task_consumer_'s
  bool inputs_assigned_ = false;
  bool tasks_assigned_ = false;
  bool closed_ = false;
  std::unique_ptr<internal::Producer> repartition_producer_;
  std::unique_ptr<KafkaAlertSink> kafka_alerts_;
  std::unique_ptr<KafkaDeadLetterSink> kafka_dlq_;
  std::unique_ptr<MeteredAlertSink> alerts_;
  std::unique_ptr<MeteredRejectSink> rejects_;
  int32_t input_partitions_ = 0;
  int32_t internal_partitions_ = 0;
  std::map<int32_t, InputPartition> inputs_;
  std::vector<std::unique_ptr<Pending>> free_pending_;
  // One producer for every task's changelog (declared before tasks_, so the
  // tasks' stores go first).
  std::unique_ptr<ChangelogProducer> changelog_producer_;
  std::map<int32_t, std::unique_ptr<Task>> tasks_;
  // The first error of a rebalance callback (returned by the main loop).
  absl::Status callback_status_;
  bool assigned_once_ = false;
  // auto.offset.reset=latest/end: a new group starts input at the end.
  bool start_at_end_ = false;
  bool input_paused_for_lag_ = false;
  // No idle confirmation is asked of the brokers before this (after one
  // that failed), and the backoff after the next failure.
  Clock::time_point idle_query_after_ = Clock::now();
  int64_t idle_query_backoff_ms_ = kIdleQueryBackoffMs;
  // Set and cleared from whichever thread serves a client's callbacks
  // (in-process commits run on another thread).
  std::atomic<bool> outage_{false};
  Clock::time_point last_message_ = Clock::now();
  // When Run() last took messages from consumer_: the arrival time of each
  // (one clock read per group rather than per message).
  Clock::time_point received_at_ = Clock::now();
  // Per-message counts not yet added to their metrics (PublishCounts). An
  // atomic add per message stalled the engine thread whenever another
  // thread had just read the counter (a scrape, a feeder pacing itself on
  // it): in stream_bench those two adds were three quarters of OnMessage.
  uint64_t unpublished_input_messages_ = 0;
  uint64_t unpublished_processed_ = 0;
  void PublishCounts() {
    Inc(metrics_.input_messages, unpublished_input_messages_);
    Inc(metrics_.processed, unpublished_processed_);
    unpublished_input_messages_ = 0;
    unpublished_processed_ = 0;
  }
  Clock::time_point last_commit_ = Clock::now();
  int64_t rule_evaluations_ = 0;
  std::string scratch_;
  Task* in_process_task_ = nullptr;  // kInProcess: tasks_[-1] while open
  SourceRecord direct_record_;       // kInProcess: reused for every message
  // kInProcess after a restart: partitions still reading again what they
  // read before it, and the watermark stored with the state.
  int replaying_ = 0;
  int64_t replay_released_ts_ = std::numeric_limits<int64_t>::min();
  // Ends the partition's replay once it has read past it; the last one lifts
  // the release limit.
  absl::Status NoteReplayProgress(InputPartition* input);
  SourceRecord leg_record_;  // kRepartition: reused for every leg
  // kRepartition: input offsets taken at the last periodic commit, sent to
  // the group once the repartition producer acknowledged every leg up to
  // sequence unacknowledged_legs_ (see Commit).
  internal::TopicPartitionListPtr unacknowledged_input_offsets_;
  int64_t unacknowledged_legs_ = 0;
  std::string leg_value_;                   // kRepartition: a leg being written
  txflag::v1::RepartitionLeg leg_scratch_;  // for ReadLeg's uncommon forms
  // kInProcess: the last commit's batch, kept for its buffer.
  engine::StateBatch spare_batch_;
  // kInProcess: the commit job in flight and its data (declared last:
  // destroyed first).
  std::shared_ptr<CommitJob> committing_;
  std::future<absl::Status> commit_job_;
};

void Runner::OnClientError(std::string_view who, const absl::Status& status) {
  if (status.code() == absl::StatusCode::kUnavailable) {
    if (outage_.exchange(true)) return;
    LogEvent(LogLevel::kWarning, "brokers_unavailable",
             {{"client", std::string(who)},
              {"brokers", bootstrap_},
              {"detail", std::string(status.message())},
              {"action", "waiting and retrying with backoff"}});
    return;
  }
  LogEvent(LogLevel::kWarning, "kafka_client_error",
           {{"client", std::string(who)},
            {"detail", std::string(status.message())}});
}

void Runner::OnError(rd_kafka_t* rk, int err, const char* reason,
                     void* opaque) {
  auto* self = static_cast<Runner*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, buf, sizeof(buf));
    if (self->callback_status_.ok()) {
      self->callback_status_ = absl::UnavailableError(absl::StrCat(
          "Kafka consumer: fatal error ", rd_kafka_err2name(cause), ": ", buf));
    }
    return;
  }
  self->OnClientError(
      "consumer",
      internal::KafkaStatus(static_cast<rd_kafka_resp_err_t>(err), reason));
}

absl::StatusOr<internal::HandlePtr> Runner::CreateConsumer(
    const char* client_id) {
  TXFLAG_ASSIGN_OR_RETURN(internal::ConfPtr conf,
                          internal::NewConf({
                              {"client.id", client_id},
                              {"group.id", o_.group},
                              {"enable.auto.commit", "false"},
                              {"enable.auto.offset.store", "false"},
                              {"enable.partition.eof", "true"},
                              // Fetches with no data wait at most this long
                              // (brokers that cannot end the wait early when
                              // data arrives, as the mock, would otherwise
                              // add up to 500 ms of latency).
                              {"fetch.wait.max.ms", "10"},
                              // librdkafka 2.0 stops fetching every
                              // partition once the consumer queue holds this
                              // many messages, and looks again only up to 1 s
                              // later: with the default 100,000 (under half a
                              // second of work) an engine behind its input
                              // sat idle half the time. The byte limit
                              // (queued.max.messages.kbytes, 64 MiB) bounds
                              // the queue instead.
                              {"queued.min.messages", "1000000"},
                              {"log_level", "2"},
                          }));
  for (const auto& [key, value] : o_.properties) {
    TXFLAG_RETURN_IF_ERROR(internal::SetConf(conf.get(), key, value));
  }
  // Every partition is positioned explicitly (stored task offsets, the
  // group's committed input offsets, or the start chosen by the user's
  // auto.offset.reset, see start_at_end_). An offset the brokers no longer
  // have is then a loss to report, never a silent jump.
  TXFLAG_RETURN_IF_ERROR(
      internal::SetConf(conf.get(), "auto.offset.reset", "error"));
  rd_kafka_conf_set_error_cb(conf.get(), &Runner::OnError);
  if (repartition()) {
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Runner::OnRebalance);
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  TXFLAG_ASSIGN_OR_RETURN(
      internal::HandlePtr consumer,
      internal::NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
      rd_kafka_poll_set_consumer(consumer.get()), "poll_set_consumer"));
  return consumer;
}

absl::StatusOr<int32_t> Runner::PartitionCount(const std::string& topic) {
  rd_kafka_topic_t* rkt =
      rd_kafka_topic_new(consumer_.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(consumer_.get(), 0, rkt, &md, kMetadataTimeoutMs);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return internal::KafkaStatus(
        err, absl::StrCat("metadata of topic '", topic, "' (brokers ",
                          bootstrap_, ")"));
  }
  int32_t count = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  if (md->topic_cnt == 1) {
    topic_err = md->topics[0].err;
    count = md->topics[0].partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR && count == 0)) {
    return absl::NotFoundError(absl::StrCat(
        "topic '", topic, "' does not exist (brokers ", bootstrap_, ")"));
  }
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return internal::KafkaStatus(
        topic_err, absl::StrCat("metadata of topic '", topic, "'"));
  }
  return count;
}

absl::Status Runner::EnsureTopic(const std::string& topic, int32_t partitions,
                                 bool compacted) {
  absl::StatusOr<int32_t> count = PartitionCount(topic);
  if (count.ok()) {
    if (*count != partitions) {
      return absl::FailedPreconditionError(absl::StrCat(
          "topic '", topic, "' has ", *count, " partitions but ", partitions,
          " are needed (the repartition and changelog topics must have the "
          "same count): recreate it, or use another --group"));
    }
    return absl::OkStatus();
  }
  if (count.status().code() != absl::StatusCode::kNotFound) {
    return count.status();
  }
  // Create it through the Admin API.
  internal::ErrorPtr error;
  char errstr[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(
      topic.c_str(), partitions, -1, errstr, sizeof(errstr));
  if (new_topic == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("creating topic '", topic, "': ", errstr));
  }
  if (compacted) {
    rd_kafka_NewTopic_set_config(new_topic, "cleanup.policy", "compact");
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(consumer_.get());
  rd_kafka_CreateTopics(consumer_.get(), &new_topic, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kMetadataTimeoutMs);
  absl::Status status = absl::DeadlineExceededError("no answer");
  if (event != nullptr) {
    status = internal::KafkaStatus(rd_kafka_event_error(event), "CreateTopics");
    if (status.ok()) {
      const rd_kafka_CreateTopics_result_t* result =
          rd_kafka_event_CreateTopics_result(event);
      size_t n = 0;
      const rd_kafka_topic_result_t** results =
          rd_kafka_CreateTopics_result_topics(result, &n);
      for (size_t i = 0; i < n; ++i) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
            err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          status = internal::KafkaStatus(err, "CreateTopics");
        }
      }
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(new_topic);
  if (!status.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "topic '", topic, "' does not exist and could not be created (",
        status.message(), "): create it with ", partitions, " partitions",
        compacted ? " and cleanup.policy=compact" : ""));
  }
  LogEvent(LogLevel::kInfo, "topic_created",
           {{"topic", topic},
            {"partitions", absl::StrCat(partitions)},
            {"compacted", compacted ? "true" : "false"}});
  // Wait until the metadata shows it.
  for (int i = 0; i < 50; ++i) {
    if (PartitionCount(topic).ok()) return absl::OkStatus();
    rd_kafka_poll(consumer_.get(), 100);
  }
  return absl::OkStatus();
}

absl::Status Runner::Setup() {
  TXFLAG_RETURN_IF_ERROR(metrics_.Init(o_.metrics));
  const std::string_view reset =
      internal::FindProperty(o_.properties, "auto.offset.reset");
  start_at_end_ = reset == "latest" || reset == "end" || reset == "largest";
  TXFLAG_ASSIGN_OR_RETURN(consumer_, CreateConsumer("txflag-run"));
  consumer_queue_.reset(rd_kafka_queue_get_consumer(consumer_.get()));
  TXFLAG_ASSIGN_OR_RETURN(input_partitions_, PartitionCount(o_.input_topic));

  KafkaAlertSinkOptions alert_options;
  alert_options.properties = ProducerProperties();
  alert_options.topic = o_.alerts_topic;
  alert_options.encoding = o_.alert_encoding;
  alert_options.flush_timeout_ms = kFlushSliceMs;
  alert_options.on_client_error = [this](const absl::Status& s) {
    OnClientError("alert producer", s);
  };
  TXFLAG_ASSIGN_OR_RETURN(kafka_alerts_, KafkaAlertSink::Create(alert_options));
  KafkaDeadLetterSinkOptions dlq_options;
  dlq_options.properties = ProducerProperties();
  dlq_options.topic = o_.dead_letter_topic;
  dlq_options.flush_timeout_ms = kFlushSliceMs;
  dlq_options.on_client_error = [this](const absl::Status& s) {
    OnClientError("dead-letter producer", s);
  };
  TXFLAG_ASSIGN_OR_RETURN(kafka_dlq_, KafkaDeadLetterSink::Create(dlq_options));
  alerts_ = std::make_unique<MeteredAlertSink>(kafka_alerts_.get(), &metrics_,
                                               summary_, o_.on_alert);
  rejects_ = std::make_unique<MeteredRejectSink>(kafka_dlq_.get(), &metrics_,
                                                 summary_);

  if (!repartition()) return StartInProcess();

  internal_partitions_ =
      o_.internal_partitions > 0 ? o_.internal_partitions : input_partitions_;
  absl::StatusOr<int32_t> existing = PartitionCount(o_.repartition_topic);
  if (existing.ok()) internal_partitions_ = *existing;
  TXFLAG_RETURN_IF_ERROR(
      EnsureTopic(o_.repartition_topic, internal_partitions_, false));
  TXFLAG_RETURN_IF_ERROR(
      EnsureTopic(o_.changelog_topic, internal_partitions_, true));

  internal::ProducerConfig config;
  config.properties = ProducerProperties();
  config.topic = o_.repartition_topic;
  config.client_id = "txflag-repartition";
  config.role = "repartition producer";
  config.on_client_error = [this](const absl::Status& s) {
    OnClientError("repartition producer", s);
  };
  TXFLAG_ASSIGN_OR_RETURN(repartition_producer_,
                          internal::Producer::Create(config));
  TXFLAG_ASSIGN_OR_RETURN(
      changelog_producer_,
      ChangelogProducer::Create(ProducerProperties(), o_.changelog_topic,
                                [this](const absl::Status& s) {
                                  OnClientError("changelog producer", s);
                                }));

  TXFLAG_ASSIGN_OR_RETURN(task_consumer_, CreateConsumer("txflag-run-tasks"));
  task_queue_.reset(rd_kafka_queue_get_consumer(task_consumer_.get()));
  for (auto [consumer, topic] :
       {std::pair<rd_kafka_t*, const std::string*>{consumer_.get(),
                                                   &o_.input_topic},
        {task_consumer_.get(), &o_.repartition_topic}}) {
    internal::TopicPartitionListPtr topics(
        rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), topic->c_str(),
                                      RD_KAFKA_PARTITION_UA);
    TXFLAG_RETURN_IF_ERROR(
        internal::KafkaStatus(rd_kafka_subscribe(consumer, topics.get()),
                              absl::StrCat("subscribing to ", *topic)));
  }
  LogEvent(LogLevel::kInfo, "started",
           {{"mode", "repartition"},
            {"group", o_.group},
            {"input_topic", o_.input_topic},
            {"input_partitions", absl::StrCat(input_partitions_)},
            {"repartition_topic", o_.repartition_topic},
            {"changelog_topic", o_.changelog_topic},
            {"internal_partitions", absl::StrCat(internal_partitions_)},
            {"rule_pack", absl::StrCat(o_.pack->stamp.name(), " ",
                                       o_.pack->stamp.version())}});
  return absl::OkStatus();
}

absl::Status Runner::StartInProcess() {
  TXFLAG_ASSIGN_OR_RETURN(std::unique_ptr<Task> task, OpenTask(-1));
  // The checkpoint holds every input partition's next offset, and the
  // offset to read again from when the reorder buffer held payments of it
  // then ("p@next" or "p@next:from"): the buffer is not in the state (see
  // engine::Processor::Options::persist_buffer), Kafka keeps those payments.
  std::map<int32_t, std::pair<int64_t, int64_t>> offsets;  // next, from
  const std::string& checkpoint = task->processor->source_checkpoint();
  if (!checkpoint.empty()) {
    std::string_view rest = checkpoint;
    const std::string prefix =
        absl::StrCat(Av(kInputCheckpointTag), o_.input_topic, "|");
    if (rest.substr(0, prefix.size()) != prefix) {
      return absl::FailedPreconditionError(
          absl::StrCat("the state dir holds state of another input ('",
                       Av(checkpoint), "'), not topic '", o_.input_topic,
                       "' in in-process mode: use another --state-dir"));
    }
    rest.remove_prefix(prefix.size());
    for (absl::string_view piece : absl::StrSplit(Av(rest), ',')) {
      const std::string_view part = Sv(piece);
      if (part.empty()) continue;
      const size_t at = part.find('@');
      const size_t colon = part.find(':');
      int64_t p = 0, offset = 0, from = 0;
      if (at == std::string_view::npos || !ParseInt(part.substr(0, at), &p) ||
          !ParseInt(part.substr(at + 1, colon == std::string_view::npos
                                            ? std::string_view::npos
                                            : colon - at - 1),
                    &offset) ||
          (colon != std::string_view::npos &&
           (!ParseInt(part.substr(colon + 1), &from) || from > offset ||
            from < 0))) {
        return absl::DataLossError(
            absl::StrCat("unreadable input checkpoint '", Av(checkpoint), "'"));
      }
      offsets[static_cast<int32_t>(p)] = {
          offset, colon == std::string_view::npos ? offset : from};
    }
  }
  internal::TopicPartitionListPtr list(
      rd_kafka_topic_partition_list_new(input_partitions_));
  for (int32_t p = 0; p < input_partitions_; ++p) {
    InputPartition& input = inputs_[p];
    input.partition = p;
    int64_t low = 0, high = 0;
    TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
        rd_kafka_query_watermark_offsets(consumer_.get(),
                                         o_.input_topic.c_str(), p, &low, &high,
                                         kMetadataTimeoutMs),
        absl::StrCat("watermarks of ", o_.input_topic, "/", p)));
    auto it = offsets.find(p);
    const int64_t offset = it != offsets.end() ? it->second.second
                           : start_at_end_     ? high
                                               : low;
    if (it != offsets.end()) {
      input.emitted_next = it->second.first;
      if (offset < it->second.first) {
        input.replay_until = it->second.first;
        ++replaying_;
      }
    }
    input.next = offset;
    input.known_high = high;
    rd_kafka_topic_partition_list_add(list.get(), o_.input_topic.c_str(), p)
        ->offset = offset;
  }
  if (replaying_ > 0) {
    // Until every partition has read its payments again, the watermark
    // stays where it was (else it could pass one not read yet, and make it
    // late), and no partition is taken for idle (InProcessHousekeeping).
    replay_released_ts_ = task->processor->released_ts();
    TXFLAG_RETURN_IF_ERROR(
        task->processor->SetReleaseLimit(replay_released_ts_));
  }
  in_process_task_ = task.get();
  tasks_[-1] = std::move(task);
  TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
      rd_kafka_assign(consumer_.get(), list.get()), "assigning input"));
  assigned_once_ = true;
  if (metrics_.assigned != nullptr) metrics_.assigned->Set(input_partitions_);
  if (o_.ready != nullptr) o_.ready->store(true);
  LogEvent(LogLevel::kInfo, "started",
           {{"mode", "in-process"},
            {"input_topic", o_.input_topic},
            {"input_partitions", absl::StrCat(input_partitions_)},
            {"resumed", checkpoint.empty() ? "false" : "true"},
            {"messages_to_read_again",
             absl::StrCat(std::accumulate(
                 inputs_.begin(), inputs_.end(), int64_t{0},
                 [](int64_t sum, const auto& entry) {
                   const InputPartition& input = entry.second;
                   return sum +
                          std::max<int64_t>(0, input.replay_until - input.next);
                 }))},
            {"rule_pack", absl::StrCat(o_.pack->stamp.name(), " ",
                                       o_.pack->stamp.version())}});
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Task>> Runner::OpenTask(int32_t partition) {
  auto task = std::make_unique<Task>();
  task->partition = partition;
  engine::Processor::Options options;
  options.allowed_lateness_seconds = o_.allowed_lateness_seconds;
  options.keep_alert_history = false;
  options.state_prefix =
      partition < 0 ? std::string("all/") : absl::StrCat("p", partition, "/");
  // A task hears from every input partition (through the stage 1 of every
  // process, or in-process directly), each progressing on its own: the
  // watermark is the oldest of them (see Processor::Options::streams).
  options.streams = input_partitions_;
  // In-process, the reorder buffer's payments are read again from the input
  // after a restart instead of being stored (StartInProcess). A task of the
  // repartition mode reads legs whose repartition offsets it does not keep
  // track of that way: it stores them.
  options.persist_buffer = partition >= 0;
  if (partition < 0) {
    // In-process, a record's stream is its input partition and its
    // position the offset (ProcessInputDirectly).
    options.locate = [topic = o_.input_topic](int32_t stream,
                                              int64_t position) {
      return absl::StrCat(topic, "/", stream, "@", position);
    };
  }
  if (metrics_.rule_seconds != nullptr) {
    engine::Histogram* histogram = metrics_.rule_seconds;
    options.evaluation_sample_every = 64;
    options.on_rule_evaluation = [histogram](double seconds) {
      histogram->Observe(seconds);
    };
  }
  if (metrics_.repeated_legs != nullptr) {
    options.on_repeated_leg = [counter = metrics_.repeated_legs] {
      counter->Increment();
    };
  }
  engine::StateStore* store = o_.store;
  if (partition >= 0) {
    ChangelogStoreOptions changelog;
    changelog.properties = ProducerProperties();
    changelog.topic = o_.changelog_topic;
    changelog.partition = partition;
    changelog.local_prefix = options.state_prefix;
    changelog.on_client_error = [this](const absl::Status& s) {
      OnClientError("changelog", s);
    };
    changelog.shared_producer = changelog_producer_.get();
    changelog.deferred = true;
    TXFLAG_ASSIGN_OR_RETURN(task->changelog,
                            ChangelogStore::Create(changelog, o_.store));
    ChangelogStore::RestoreStats stats;
    TXFLAG_RETURN_IF_ERROR(task->changelog->Restore(&stats));
    if (!stats.fast_path) {
      LogEvent(LogLevel::kInfo, "state_restored",
               {{"partition", absl::StrCat(partition)},
                {"changelog_messages", absl::StrCat(stats.messages_read)},
                {"keys", absl::StrCat(stats.keys_restored)},
                {"incomplete_ops_discarded",
                 absl::StrCat(stats.incomplete_ops_discarded)},
                {"seconds", absl::StrCat(stats.seconds)}});
    }
    store = task->changelog.get();
  }
  TXFLAG_ASSIGN_OR_RETURN(
      task->processor, engine::Processor::Open(o_.pack, options, store,
                                               rejects_.get(), alerts_.get()));
  if (partition >= 0) TXFLAG_RETURN_IF_ERROR(RestoreTaskCheckpoint(task.get()));
  return task;
}

std::string Runner::TaskCheckpoint(const Task& task) const {
  std::string out =
      absl::StrCat(Av(kTaskCheckpointTag), o_.repartition_topic, "/",
                   task.partition, "@", task.next_offset, "|");
  bool first = true;
  for (const auto& [p, seq] : task.last_seq) {
    absl::StrAppend(&out, first ? "" : ",", p, ":", seq);
    first = false;
  }
  return out;
}

absl::Status Runner::RestoreTaskCheckpoint(Task* task) {
  const std::string& checkpoint = task->processor->source_checkpoint();
  task->next_offset = -1;
  task->last_seq.clear();
  if (checkpoint.empty()) return absl::OkStatus();
  const std::string prefix = absl::StrCat(
      Av(kTaskCheckpointTag), o_.repartition_topic, "/", task->partition, "@");
  auto bad = [&] {
    return absl::DataLossError(
        absl::StrCat("task checkpoint '", Av(checkpoint), "' is not for ",
                     o_.repartition_topic, "/", task->partition,
                     " or is unreadable: use another --group or a "
                     "fresh --state-dir"));
  };
  std::string_view rest = checkpoint;
  if (rest.substr(0, prefix.size()) != prefix) return bad();
  rest.remove_prefix(prefix.size());
  const size_t bar = rest.find('|');
  if (bar == std::string_view::npos ||
      !ParseInt(rest.substr(0, bar), &task->next_offset)) {
    return bad();
  }
  rest.remove_prefix(bar + 1);
  for (absl::string_view piece : absl::StrSplit(Av(rest), ',')) {
    const std::string_view part = Sv(piece);
    if (part.empty()) continue;
    const size_t colon = part.find(':');
    int64_t p = 0, seq = 0;
    if (colon == std::string_view::npos ||
        !ParseInt(part.substr(0, colon), &p) ||
        !ParseInt(part.substr(colon + 1), &seq)) {
      return bad();
    }
    task->last_seq[static_cast<int32_t>(p)] = seq;
  }
  return absl::OkStatus();
}

std::string Runner::InProcessCheckpoint() const {
  std::string out = absl::StrCat(Av(kInputCheckpointTag), o_.input_topic, "|");
  bool first = true;
  const engine::Processor* processor =
      in_process_task_ != nullptr ? in_process_task_->processor.get() : nullptr;
  for (const auto& [p, input] : inputs_) {
    if (input.emitted_next < 0) continue;
    absl::StrAppend(&out, first ? "" : ",", p, "@", input.emitted_next);
    first = false;
    // Where a restart must read again from: the oldest payment of the
    // partition still waiting in the reorder buffer, or, in the middle of
    // reading again, the next offset to read.
    int64_t from = input.next;
    if (processor != nullptr) {
      const int64_t oldest = processor->OldestBufferedPosition(p);
      if (oldest >= 0) from = std::min(from, oldest);
    }
    from = std::min(from, input.emitted_next);
    if (from >= 0 && from < input.emitted_next) {
      absl::StrAppend(&out, ":", from);
    }
  }
  return out;
}

void Runner::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* partitions,
                         void* opaque) {
  auto* self = static_cast<Runner*>(opaque);
  absl::Status status;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    status = self->Assign(rk, partitions);
    if (!status.ok()) {
      // Take nothing: the main loop returns the error and the process exits;
      // the group moves the partitions to another member.
      rd_kafka_assign(rk, nullptr);
    }
  } else {
    status = self->Revoke(rk);
    rd_kafka_assign(rk, nullptr);
  }
  if (!status.ok() && self->callback_status_.ok()) {
    self->callback_status_ = std::move(status);
  }
}

absl::Status Runner::Assign(rd_kafka_t* rk,
                            rd_kafka_topic_partition_list_t* partitions) {
  Inc(metrics_.rebalances);
  ++summary_->rebalances;
  const auto start = Clock::now();
  std::vector<std::string> inputs, tasks;
  // Input partitions start at the group's committed offsets. Read them (and
  // the watermarks) now, so stage 1 knows from the start which partitions
  // have payments it has not fetched yet and must wait for.
  internal::TopicPartitionListPtr committed(
      rd_kafka_topic_partition_list_new(partitions->cnt));
  for (int i = 0; i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = partitions->elems[i];
    if (o_.input_topic == tp.topic) {
      rd_kafka_topic_partition_list_add(committed.get(), tp.topic,
                                        tp.partition);
    }
  }
  if (committed->cnt > 0) {
    TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
        rd_kafka_committed(consumer_.get(), committed.get(),
                           kMetadataTimeoutMs),
        absl::StrCat("reading the committed offsets of group '", o_.group,
                     "'")));
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    if (o_.input_topic == tp.topic) {
      InputPartition& input = inputs_[tp.partition];
      input.partition = tp.partition;
      input.last_activity = Clock::now();
      const rd_kafka_topic_partition_t* c = rd_kafka_topic_partition_list_find(
          committed.get(), tp.topic, tp.partition);
      int64_t low = 0, high = 0;
      TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
          rd_kafka_query_watermark_offsets(consumer_.get(), tp.topic,
                                           tp.partition, &low, &high,
                                           kMetadataTimeoutMs),
          absl::StrCat("watermarks of ", tp.topic, "/", tp.partition)));
      if (c != nullptr && c->offset >= 0) {
        tp.offset = c->offset;
      } else {
        tp.offset = start_at_end_ ? high : low;
      }
      input.next = tp.offset;
      input.known_high = high;
      inputs.push_back(absl::StrCat(tp.partition));
    } else if (o_.repartition_topic == tp.topic) {
      TXFLAG_ASSIGN_OR_RETURN(std::unique_ptr<Task> task,
                              OpenTask(tp.partition));
      tp.offset = task->next_offset >= 0 ? task->next_offset
                                         : RD_KAFKA_OFFSET_BEGINNING;
      tasks_[tp.partition] = std::move(task);
      tasks.push_back(absl::StrCat(tp.partition));
    }
  }
  TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(rd_kafka_assign(rk, partitions),
                                               "assigning partitions"));
  // librdkafka keeps a partition's pause across a revocation and a new
  // assignment, while txflag starts it afresh (unpaused): a partition paused
  // when the group rebalanced was never read again (stream_test's broker
  // outage, whose rebalance came while stage 1 held a full queue).
  rd_kafka_resume_partitions(rk, partitions);
  if (rk == task_consumer_.get()) {
    tasks_assigned_ = true;
  } else {
    inputs_assigned_ = true;
    input_paused_for_lag_ = false;
  }
  assigned_once_ = inputs_assigned_ && tasks_assigned_;
  if (metrics_.assigned != nullptr) {
    metrics_.assigned->Set(static_cast<double>(inputs_.size() + tasks_.size()));
  }
  if (o_.ready != nullptr) o_.ready->store(assigned_once_);
  LogEvent(LogLevel::kInfo, "partitions_assigned",
           {{"input", absl::StrJoin(inputs, ",")},
            {"tasks", absl::StrJoin(tasks, ",")},
            {"restore_ms", absl::StrCat(MillisSince(start))}});
  return absl::OkStatus();
}

absl::Status Runner::Revoke(rd_kafka_t* rk) {
  Inc(metrics_.rebalances);
  ++summary_->rebalances;
  if (o_.ready != nullptr) o_.ready->store(false);
  // Commits everything (both stages): cheap, and the simplest invariant.
  absl::Status status = Commit(/*sync_offsets=*/true);
  const bool tasks = rk == task_consumer_.get();
  LogEvent(status.ok() ? LogLevel::kInfo : LogLevel::kError,
           "partitions_revoked",
           {{tasks ? "tasks" : "input",
             absl::StrCat(tasks ? tasks_.size() : inputs_.size())},
            {"committed", status.ok() ? "true" : "false"}});
  // Unemitted input is read again by the next owner from the committed
  // offsets; tasks are reopened from the store (or the changelog).
  if (tasks) {
    tasks_.clear();
    tasks_assigned_ = false;
  } else {
    inputs_.clear();
    inputs_assigned_ = false;
    input_paused_for_lag_ = false;
  }
  if (metrics_.assigned != nullptr) {
    metrics_.assigned->Set(static_cast<double>(inputs_.size() + tasks_.size()));
  }
  return status;
}

absl::Status Runner::OnMessage(const rd_kafka_message_t* message) {
  const char* topic = rd_kafka_topic_name(message->rkt);
  if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (o_.input_topic == topic) {
      auto it = inputs_.find(message->partition);
      if (it != inputs_.end() && message->offset >= it->second.next) {
        InputPartition& input = it->second;
        input.caught_up = true;
        // The offset is the consumer's position at the end of the
        // partition. Offsets before it that were never delivered are not
        // payments to wait for (transaction markers, compacted records):
        // without this, a silent partition whose last offset is a marker
        // would look unfetched (high > next) and hold the watermark. (Not
        // exercised by the tests: the librdkafka mock writes no markers.)
        if (input.queue.empty()) {
          input.next = message->offset;
          input.emitted_next = message->offset;
          if (!repartition()) return NoteReplayProgress(&input);
        }
      }
    } else {
      auto it = tasks_.find(message->partition);
      if (it != tasks_.end() && message->offset >= it->second->next_offset) {
        it->second->caught_up = true;
      }
    }
    return absl::OkStatus();
  }
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const std::string where =
        absl::StrCat(topic == nullptr ? "?" : topic, "/", message->partition,
                     "@", message->offset);
    if (message->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
        message->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
      return absl::DataLossError(absl::StrCat(
          "consuming ", where,
          ": the offset is no longer on the brokers (retention, or the "
          "librdkafka mock's ~5 MiB per partition): payments were lost to "
          "this consumer; ",
          rd_kafka_message_errstr(message)));
    }
    absl::Status status =
        internal::KafkaStatus(message->err, absl::StrCat("consuming ", where));
    if (status.code() == absl::StatusCode::kUnavailable) {
      OnClientError("consumer", status);
      return absl::OkStatus();
    }
    return status;
  }
  // A plain load first: this runs for every message.
  if (outage_.load(std::memory_order_relaxed) && outage_.exchange(false)) {
    LogEvent(LogLevel::kInfo, "brokers_available", {{"brokers", bootstrap_}});
  }
  if (o_.input_topic == topic) {
    last_message_ = received_at_;
    return OnInputMessage(message);
  }
  if (o_.repartition_topic == topic) return OnRepartitionMessage(message);
  return absl::OkStatus();
}

absl::Status Runner::OnInputMessage(const rd_kafka_message_t* message) {
  auto it = inputs_.find(message->partition);
  if (it == inputs_.end()) return absl::OkStatus();  // revoked meanwhile
  InputPartition& input = it->second;
  if (message->offset < input.next) return absl::OkStatus();
  ++summary_->input_messages;
  ++unpublished_input_messages_;
  if (!repartition()) return ProcessInputDirectly(&input, message);
  std::unique_ptr<Pending> recycled;
  if (!free_pending_.empty()) {
    recycled = std::move(free_pending_.back());
    free_pending_.pop_back();
  } else {
    recycled = std::make_unique<Pending>();
  }
  Pending& pending = *input.queue.emplace_back(std::move(recycled));
  pending.offset = message->offset;
  rd_kafka_timestamp_type_t type;
  pending.timestamp_ms = rd_kafka_message_timestamp(message, &type);
  // Appended, not assigned: a recycled Pending keeps its strings' capacity.
  pending.record.location.clear();
  absl::StrAppend(&pending.record.location, o_.input_topic, "/",
                  message->partition, "@", message->offset);
  pending.record.legs = Legs::kBoth;
  pending.record.label.reset();
  const std::string_view payload = Payload(message);
  pending.value.assign(payload.data(), payload.size());
  internal::DecodePaymentMessageAsView(pending.value, o_.input_encoding,
                                       &pending.record);
  pending.event_ts = pending.record.kind == SourceRecord::Kind::kPayment
                         ? pending.record.fields().seconds
                         : std::numeric_limits<int64_t>::min();
  input.next = message->offset + 1;
  input.caught_up = false;
  input.idle_confirmed = false;
  input.last_activity = Clock::now();
  input.idle_marker_sent.reset();
  input.last_event_ts = std::max(input.last_event_ts, pending.event_ts);
  if (input.queue.size() >= kMaxQueuedPerInput && !input.paused) {
    internal::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), o_.input_topic.c_str(),
                                      input.partition);
    rd_kafka_pause_partitions(consumer_.get(), list.get());
    input.paused = true;
  }
  return absl::OkStatus();
}

absl::Status Runner::ProcessInputDirectly(InputPartition* input,
                                          const rd_kafka_message_t* message) {
  SourceRecord& record = direct_record_;
  // No location string per message: the Processor names a rejected one
  // from its stream and position (Options::locate, set in OpenTask).
  record.location.clear();
  record.legs = Legs::kBoth;
  record.label.reset();
  // The record is processed before the message is destroyed: a view into
  // its bytes saves building a Payment message.
  internal::DecodePaymentMessageAsView(Payload(message), o_.input_encoding,
                                       &record);
  record.stream = message->partition;
  record.position = message->offset;
  rd_kafka_timestamp_type_t type;
  const int64_t timestamp_ms = rd_kafka_message_timestamp(message, &type);
  input->next = message->offset + 1;
  input->emitted_next = std::max(input->emitted_next, input->next);
  input->caught_up = false;
  input->idle_confirmed = false;
  input->last_activity = last_message_;
  const bool is_payment = record.kind == SourceRecord::Kind::kPayment;
  const int64_t event_ts = is_payment ? record.fields().seconds : 0;
  if (is_payment) {
    input->last_event_ts = std::max(input->last_event_ts, event_ts);
  }
  input->stream_idle = false;
  if (message->offset < input->replay_until) {
    // Read before the restart. A payment newer than the watermark then was
    // waiting in the reorder buffer, which the state does not hold: it is
    // processed now. Anything else was processed, or dead-lettered, then.
    const bool was_waiting = is_payment && event_ts > replay_released_ts_;
    if (!was_waiting) return NoteReplayProgress(input);
  }
  TXFLAG_RETURN_IF_ERROR(
      ProcessInTask(in_process_task_, &record, timestamp_ms));
  // After the payment is buffered: the partition's last message to read
  // again (or its first past them, when offsets were skipped) ends its
  // replay, and the last partition's lifts the release limit.
  return NoteReplayProgress(input);
}

absl::Status Runner::NoteReplayProgress(InputPartition* input) {
  if (input->replay_until < 0 || input->next < input->replay_until) {
    return absl::OkStatus();
  }
  input->replay_until = -1;
  if (--replaying_ > 0) return absl::OkStatus();
  LogEvent(LogLevel::kInfo, "read_again_done", {});
  return in_process_task_->processor->SetReleaseLimit(
      std::numeric_limits<int64_t>::max());
}

absl::Status Runner::InProcessHousekeeping() {
  if (in_process_task_ == nullptr) return absl::OkStatus();
  engine::Processor* processor = in_process_task_->processor.get();
  // A partition that ConfirmIdle() finds idle stops holding the watermark
  // back (until its next payment). A consumer whose fetches stall
  // (librdkafka queue limits, a busy machine, a slow broker) must not turn
  // a slow partition into an idle one, or its payments would come in
  // behind the watermark, late (stream_bench saw 16,941 and then 8,949
  // such dead letters before the checks in HasUnfetched and ConfirmIdle).
  for (auto& [p, input] : inputs_) {
    // While partitions read again after a restart, the watermark must stay
    // (StartInProcess).
    if (replaying_ > 0) break;
    if (input.stream_idle || !ConfirmIdle(&input)) continue;
    input.stream_idle = true;
    TXFLAG_RETURN_IF_ERROR(processor->SetStreamIdle(p, true));
  }
  // Memory bound: while the reorder buffer is over kMaxBufferedInProcess
  // (partitions running ahead of a slower one), pause every partition but
  // the ones holding the watermark back; resume all below half.
  const size_t buffered = processor->buffered();
  if (!input_paused_for_lag_ && buffered > kMaxBufferedInProcess) {
    int64_t oldest = std::numeric_limits<int64_t>::max();
    for (const auto& [p, input] : inputs_) {
      if (!input.stream_idle) oldest = std::min(oldest, input.last_event_ts);
    }
    internal::TopicPartitionListPtr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(inputs_.size())));
    for (auto& [p, input] : inputs_) {
      if (input.last_event_ts <= oldest) continue;
      rd_kafka_topic_partition_list_add(list.get(), o_.input_topic.c_str(), p);
      input.paused = true;
    }
    rd_kafka_pause_partitions(consumer_.get(), list.get());
    input_paused_for_lag_ = true;
    LogEvent(LogLevel::kInfo, "input_paused",
             {{"reason", "reorder buffer full"},
              {"buffered", absl::StrCat(buffered)},
              {"paused_partitions", absl::StrCat(list->cnt)}});
  } else if (input_paused_for_lag_ && buffered < kMaxBufferedInProcess / 2) {
    internal::TopicPartitionListPtr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(inputs_.size())));
    for (auto& [p, input] : inputs_) {
      if (!input.paused) continue;
      rd_kafka_topic_partition_list_add(list.get(), o_.input_topic.c_str(), p);
      input.paused = false;
    }
    rd_kafka_resume_partitions(consumer_.get(), list.get());
    input_paused_for_lag_ = false;
    LogEvent(LogLevel::kInfo, "input_resumed",
             {{"buffered", absl::StrCat(buffered)}});
  }
  return absl::OkStatus();
}

bool Runner::ConfirmIdle(InputPartition* input) {
  // Cheap checks first. A confirmed partition passes them: its next message
  // clears the confirmation along with caught_up and the silence.
  if (!input->caught_up ||
      MillisSince(input->last_activity) < o_.max_input_idle_ms ||
      HasUnfetched(*input)) {
    return false;
  }
  if (input->idle_confirmed) return true;
  if (Clock::now() < idle_query_after_) return false;
  int64_t low = 0, high = -1;
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      consumer_.get(), o_.input_topic.c_str(), input->partition, &low, &high,
      kIdleQueryTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    idle_query_after_ =
        Clock::now() + std::chrono::milliseconds(idle_query_backoff_ms_);
    idle_query_backoff_ms_ =
        std::min(2 * idle_query_backoff_ms_, kMaxIdleQueryBackoffMs);
    return false;
  }
  idle_query_backoff_ms_ = kIdleQueryBackoffMs;
  input->known_high = std::max(input->known_high, high);
  input->idle_confirmed = !HasUnfetched(*input);
  return input->idle_confirmed;
}

bool Runner::HasUnfetched(const InputPartition& input) const {
  int64_t low = 0, high = -1;
  if (rd_kafka_get_watermark_offsets(consumer_.get(), o_.input_topic.c_str(),
                                     input.partition, &low,
                                     &high) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    high = -1;
  }
  high = std::max(high, input.known_high);
  return high >= 0 && input.next >= 0 && high > input.next;
}

int64_t Runner::EmitLimit(const InputPartition& input) const {
  constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();
  constexpr int64_t kBlocked = std::numeric_limits<int64_t>::min();
  // Paused by us (lag), or known to have messages on the brokers that are
  // not fetched yet: wait for them, however long it takes.
  if (input.paused) return kBlocked;
  if (HasUnfetched(input)) return kBlocked;
  // Idle (silent for max_input_idle_ms, and the brokers confirmed that
  // nothing more of it is waiting; see ConfirmIdle): it does not hold the
  // others back.
  if (input.idle_confirmed) return kNoLimit;
  // Caught up, or nothing fetched yet: its next payment is no older than
  // the newest it gave (a partition is in time order, up to the lateness),
  // so the others may run ahead of that by half the allowed lateness (the
  // other half absorbs skew between processes).
  if (input.last_event_ts == std::numeric_limits<int64_t>::min()) {
    return kBlocked;
  }
  return input.last_event_ts + o_.allowed_lateness_seconds / 2;
}

absl::Status Runner::EmitReady(bool force) {
  while (true) {
    InputPartition* best = nullptr;
    int64_t limit = std::numeric_limits<int64_t>::max();
    for (auto& [p, input] : inputs_) {
      if (input.queue.empty()) {
        if (!force) limit = std::min(limit, EmitLimit(input));
        continue;
      }
      if (best == nullptr ||
          input.queue.front()->event_ts < best->queue.front()->event_ts) {
        best = &input;
      }
    }
    if (best == nullptr) return absl::OkStatus();
    // A reject (event_ts min()) can go at once; a payment waits while a
    // partition may still bring an earlier one.
    if (best->queue.front()->event_ts > limit) return absl::OkStatus();
    TXFLAG_RETURN_IF_ERROR(Emit(best, best->queue.front().get()));
    best->emitted_next = best->queue.front()->offset + 1;
    // Always kept: the free list never outgrows the most ever queued at
    // once (kMaxQueuedPerInput per input), and a cap below that made stage 1
    // allocate and free a Pending, and its strings, for most payments.
    free_pending_.push_back(std::move(best->queue.front()));
    best->queue.pop_front();
    if (best->paused && best->queue.size() < kMaxQueuedPerInput / 4 &&
        !input_paused_for_lag_) {
      internal::TopicPartitionListPtr list(
          rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(list.get(), o_.input_topic.c_str(),
                                        best->partition);
      rd_kafka_resume_partitions(consumer_.get(), list.get());
      best->paused = false;
    }
  }
}

absl::Status Runner::Emit(InputPartition* input, Pending* pending) {
  SourceRecord& record = pending->record;
  if (!repartition()) {
    return ProcessInTask(in_process_task_, &record, pending->timestamp_ms);
  }
  if (record.kind == SourceRecord::Kind::kReject) {
    return rejects_->Write(record.location, record.reason, record.raw);
  }
  // A payment read as a view was in the canonical protobuf form (the view
  // reader takes nothing else), which the legs carry: its bytes go on as
  // they came. Anything else (JSON input, a value protobuf had to read) is
  // serialized from the message.
  std::string_view value;
  if (record.view.has_value()) {
    value = pending->value;
  } else {
    scratch_.clear();
    record.payment.SerializeToString(&scratch_);
    value = scratch_;
  }
  const txflag::v1::PaymentView payment = record.fields();
  for (const auto& [account, side] :
       {std::pair<std::string_view, LegSide>{payment.debtor_account,
                                             LegSide::kDebit},
        {payment.creditor_account, LegSide::kCredit}}) {
    if (account.empty()) continue;
    const int32_t partition = RepartitionOf(account, internal_partitions_);
    leg_value_.clear();
    txflag::v1::AppendLegWire({side, record.location, value}, &leg_value_);
    TXFLAG_RETURN_IF_ERROR(repartition_producer_->Produce(
        account, leg_value_, "payment leg", record.location, {}, partition,
        pending->timestamp_ms));
    if (auto it = tasks_.find(partition); it != tasks_.end()) {
      ++it->second->produced_here;
    }
    ++summary_->legs_produced;
    Inc(metrics_.legs_produced);
  }
  return absl::OkStatus();
}

std::optional<txflag::v1::LegView> Runner::ReadLegMessage(
    const rd_kafka_message_t* message) {
  txflag::v1::LegView leg;
  if (txflag::v1::ReadLeg(Payload(message), &leg, &leg_scratch_)) return leg;
  // A leg written by an earlier version, still in the topic after an
  // upgrade. Asked second: librdkafka allocates a header list for every
  // message it is asked about, even one with no headers (4% of the engine
  // thread when asked first). Such a leg's value, a Payment, never reads as
  // a RepartitionLeg: its field 1 (id) is a string where the leg's side is a
  // number, so the side is left unspecified.
  const std::string_view side = HeaderValue(message, kLegHeader);
  if (side == "D") {
    leg.side = LegSide::kDebit;
  } else if (side == "C") {
    leg.side = LegSide::kCredit;
  } else if (side == kIdleMarker) {
    leg.side = LegSide::kIdleMarker;
  } else {
    return std::nullopt;
  }
  leg.source = HeaderValue(message, kSourceHeader);
  leg.payment = Payload(message);
  return leg;
}

absl::Status Runner::OnRepartitionMessage(const rd_kafka_message_t* message) {
  auto it = tasks_.find(message->partition);
  if (it == tasks_.end()) return absl::OkStatus();  // revoked meanwhile
  Task& task = *it->second;
  if (task.next_offset >= 0 && message->offset < task.next_offset) {
    return absl::OkStatus();
  }
  task.next_offset = message->offset + 1;
  task.caught_up = false;
  ++task.consumed_here;
  // Reused: a fresh record allocated a dozen strings for every leg.
  SourceRecord& record = leg_record_;
  record.kind = SourceRecord::Kind::kPayment;
  record.reason.clear();
  record.raw.clear();
  record.stream = 0;
  record.label.reset();
  const std::optional<txflag::v1::LegView> leg = ReadLegMessage(message);
  std::optional<KafkaLocation> where;
  if (leg.has_value()) where = ParseKafkaLocation(leg->source);
  rd_kafka_timestamp_type_t type;
  const int64_t timestamp_ms = rd_kafka_message_timestamp(message, &type);
  const bool idle_marker = leg.has_value() && leg->side == LegSide::kIdleMarker;
  // Idle markers are not input: they do not postpone an idle exit.
  if (!idle_marker) last_message_ = received_at_;
  if (idle_marker && where.has_value() && where->topic == o_.input_topic &&
      where->partition < input_partitions_) {
    // Stage 1 says this input partition has nothing to send: it stops
    // holding the task's watermark back until its next leg.
    ++task.processed;
    return task.processor->SetStreamIdle(where->partition, true);
  }
  if (!leg.has_value() || idle_marker || !where.has_value() ||
      where->topic != o_.input_topic) {
    record.kind = SourceRecord::Kind::kReject;
    record.location = absl::StrCat(o_.repartition_topic, "/",
                                   message->partition, "@", message->offset);
    record.reason = absl::StrCat(
        "repartition message that is not a txflag.v1.RepartitionLeg (or a "
        "leg with ",
        kLegHeader, " / ", kSourceHeader, " headers) from input topic '",
        o_.input_topic, "' (was it written by another producer?)");
    record.raw = std::string(Payload(message));
    return ProcessInTask(&task, &record, timestamp_ms);
  }
  const bool credit = leg->side == LegSide::kCredit;
  const int64_t seq = where->offset * 2 + (credit ? 1 : 0);
  auto [last, inserted] = task.last_seq.try_emplace(where->partition, seq);
  if (!inserted) {
    if (seq <= last->second) {
      ++summary_->duplicates_skipped;
      Inc(metrics_.duplicates);
      return absl::OkStatus();
    }
    last->second = seq;
  }
  record.location.assign(leg->source.data(), leg->source.size());
  // The record is processed before the message is destroyed: a view into
  // its bytes saves building a Payment message (as for in-process input).
  internal::DecodePaymentMessageAsView(leg->payment, PaymentEncoding::kProtobuf,
                                       &record);
  record.legs = credit ? Legs::kCredit : Legs::kDebit;
  if (where->partition >= input_partitions_) {
    record.kind = SourceRecord::Kind::kReject;
    record.reason = absl::StrCat(
        "leg from input partition ", where->partition, " but ", o_.input_topic,
        " had ", input_partitions_,
        " partitions when this process started: restart txflag after adding "
        "partitions");
    record.raw = std::string(Payload(message));
  } else {
    record.stream = where->partition;
  }
  return ProcessInTask(&task, &record, timestamp_ms);
}

absl::Status Runner::ProcessInTask(Task* task, SourceRecord* record,
                                   int64_t timestamp_ms) {
  alerts_->set_current_timestamp_ms(timestamp_ms);
  ++task->processed;
  ++summary_->records_processed;
  ++unpublished_processed_;
  return task->processor->Process(record);
}

absl::Status Runner::FlushWaiting(std::string_view what,
                                  const std::function<absl::Status()>& flush) {
  const auto start = Clock::now();
  while (true) {
    absl::Status status = flush();
    if (status.ok()) {
      if (MillisSince(start) >= kFlushSliceMs) {
        LogEvent(LogLevel::kInfo, "flush_completed",
                 {{"what", std::string(what)},
                  {"waited_ms", absl::StrCat(MillisSince(start))}});
      }
      return status;
    }
    if (status.code() != absl::StatusCode::kDeadlineExceeded) return status;
    LogEvent(LogLevel::kWarning, "flush_waiting",
             {{"what", std::string(what)},
              {"waited_ms", absl::StrCat(MillisSince(start))},
              {"brokers", bootstrap_}});
    if (stopping()) {
      return absl::UnavailableError(absl::StrCat(
          "stopped while waiting for the brokers to acknowledge the ", Av(what),
          ": nothing was committed since the last commit; the next run "
          "resumes from there"));
    }
    // The consumers are not polled here: their queues hold messages and
    // rebalance events that must not be served in the middle of a commit.
    // (Each flush slice is 5 s; max.poll.interval.ms is 300 s by default.)
  }
}

internal::TopicPartitionListPtr Runner::InputOffsets() const {
  internal::TopicPartitionListPtr offsets(
      rd_kafka_topic_partition_list_new(static_cast<int>(inputs_.size())));
  for (const auto& [p, input] : inputs_) {
    if (input.emitted_next < 0) continue;
    rd_kafka_topic_partition_list_add(offsets.get(), o_.input_topic.c_str(), p)
        ->offset = input.emitted_next;
  }
  return offsets;
}

absl::Status Runner::AwaitCommit() {
  if (!commit_job_.valid()) return absl::OkStatus();
  absl::Status status = commit_job_.get();
  // Its batch's buffer serves the next commit (a batch is megabytes: fresh
  // memory each time cost page faults and copies while it grew).
  if (committing_ != nullptr) {
    spare_batch_ = std::move(committing_->batch);
    committing_.reset();
  }
  return status;
}

absl::Status Runner::RunCommitJob(CommitJob* job) {
  const auto start = Clock::now();
  TXFLAG_RETURN_IF_ERROR(FlushWaiting("alerts", [&] {
    return kafka_alerts_->WaitDelivered(job->alert_position);
  }));
  TXFLAG_RETURN_IF_ERROR(FlushWaiting("dead letters", [&] {
    return kafka_dlq_->WaitDelivered(job->dead_letter_position);
  }));
  TXFLAG_RETURN_IF_ERROR(o_.store->Write(job->batch));
  if (job->offsets != nullptr && job->offsets->cnt > 0) {
    // For lag monitoring and `auto.offset.reset` on a new state dir only:
    // the offsets that count are in the state just written.
    absl::Status status = internal::KafkaStatus(
        rd_kafka_commit(consumer_.get(), job->offsets.get(), /*async=*/1),
        "committing offsets to the group");
    if (!status.ok()) {
      LogEvent(LogLevel::kWarning, "offset_commit_failed",
               {{"detail", std::string(status.message())}});
    }
  }
  if (metrics_.commit_seconds != nullptr) {
    metrics_.commit_seconds->Observe(
        std::chrono::duration<double>(Clock::now() - start).count());
  }
  return absl::OkStatus();
}

absl::Status Runner::CommitInProcess(bool wait) {
  TXFLAG_RETURN_IF_ERROR(AwaitCommit());
  if (in_process_task_ == nullptr) return absl::OkStatus();
  auto job = std::make_shared<CommitJob>();
  job->batch = std::move(spare_batch_);
  // Everything emitted so far belongs to this commit: the job waits for it
  // to be acknowledged before it writes the state that raised it.
  job->alert_position = kafka_alerts_->position();
  job->dead_letter_position = kafka_dlq_->position();
  TXFLAG_RETURN_IF_ERROR(in_process_task_->processor->PrepareCommit(
      InProcessCheckpoint(),
      kafka_dlq_->CheckpointAt(job->dead_letter_position), &job->batch));
  job->offsets = InputOffsets();
  committing_ = job;
  commit_job_ = std::async(std::launch::async,
                           [this, job] { return RunCommitJob(job.get()); });
  ++summary_->commits;
  Inc(metrics_.commits);
  last_commit_ = Clock::now();
  UpdateGauges();
  if (wait) return AwaitCommit();
  return absl::OkStatus();
}

absl::Status Runner::Commit(bool sync_offsets) {
  if (!repartition()) return CommitInProcess(/*wait=*/sync_offsets);
  const auto start = Clock::now();
  // Stage 1's input offsets may go to the group only once every leg emitted
  // before them is acknowledged. On revocation and shutdown that is waited
  // for; a periodic commit does not wait (the wait was a fifth of the
  // engine's time in repartition mode): it sends the offsets taken at the
  // previous commit if their legs are acknowledged by now, and keeps this
  // commit's for the next. A crash then reads at most two commit intervals
  // of input again, whose legs the tasks skip.
  internal::TopicPartitionListPtr input_offsets;
  if (repartition_producer_ != nullptr) {
    if (sync_offsets) {
      TXFLAG_RETURN_IF_ERROR(FlushWaiting("repartitioned legs", [&] {
        return repartition_producer_->Flush(kFlushSliceMs);
      }));
      input_offsets = InputOffsets();
      unacknowledged_input_offsets_.reset();
    } else {
      if (unacknowledged_input_offsets_ != nullptr) {
        absl::Status delivered =
            repartition_producer_->WaitDelivered(unacknowledged_legs_, 0);
        if (delivered.ok()) {
          input_offsets = std::move(unacknowledged_input_offsets_);
        } else if (delivered.code() != absl::StatusCode::kDeadlineExceeded) {
          return delivered;
        }
      }
      if (input_offsets != nullptr ||
          unacknowledged_input_offsets_ == nullptr) {
        unacknowledged_input_offsets_ = InputOffsets();
        unacknowledged_legs_ = repartition_producer_->last_sequence();
      }
    }
  }
  TXFLAG_RETURN_IF_ERROR(
      FlushWaiting("alerts", [&] { return kafka_alerts_->Flush(); }));
  TXFLAG_RETURN_IF_ERROR(FlushWaiting(
      "dead letters", [&] { return kafka_dlq_->Flush().status(); }));
  // Each task's commit is queued to its changelog partition; one flush
  // acknowledges them all; then each is written locally.
  for (auto& [p, task] : tasks_) {
    TXFLAG_RETURN_IF_ERROR(task->processor->Commit(
        p < 0 ? InProcessCheckpoint() : TaskCheckpoint(*task)));
  }
  if (changelog_producer_ != nullptr && !tasks_.empty()) {
    TXFLAG_RETURN_IF_ERROR(FlushWaiting("state changelog", [&] {
      return changelog_producer_->Flush(kFlushSliceMs);
    }));
    for (auto& [p, task] : tasks_) {
      if (task->changelog != nullptr) {
        TXFLAG_RETURN_IF_ERROR(task->changelog->CompleteWrite());
      }
    }
  }
  // Group offsets: the input's (what stage 1 emitted, acknowledged; see
  // above) and, for lag monitoring only, the tasks'.
  internal::TopicPartitionListPtr task_offsets(
      rd_kafka_topic_partition_list_new(static_cast<int>(tasks_.size())));
  for (const auto& [p, task] : tasks_) {
    if (p < 0 || task->next_offset < 0) continue;
    rd_kafka_topic_partition_list_add(task_offsets.get(),
                                      o_.repartition_topic.c_str(), p)
        ->offset = task->next_offset;
  }
  for (auto [consumer, offsets] :
       {std::pair<rd_kafka_t*, rd_kafka_topic_partition_list_t*>{
            consumer_.get(), input_offsets.get()},
        {task_consumer_.get(), task_offsets.get()}}) {
    if (consumer == nullptr || offsets == nullptr || offsets->cnt == 0) {
      continue;
    }
    // A failure only means some legs are produced again (and skipped by
    // the tasks).
    absl::Status status = internal::KafkaStatus(
        rd_kafka_commit(consumer, offsets, sync_offsets ? 0 : 1),
        "committing offsets to the group");
    if (!status.ok()) {
      // While closing, the first consumer's leave already started a
      // rebalance; Finish() committed the offsets before that.
      LogEvent(closed_ ? LogLevel::kDebug : LogLevel::kWarning,
               "offset_commit_failed",
               {{"detail", std::string(status.message())}});
    }
  }
  ++summary_->commits;
  Inc(metrics_.commits);
  if (metrics_.commit_seconds != nullptr) {
    metrics_.commit_seconds->Observe(
        std::chrono::duration<double>(Clock::now() - start).count());
  }
  last_commit_ = Clock::now();
  UpdateGauges();
  return absl::OkStatus();
}

void Runner::UpdateGauges() {
  size_t accounts = 0, buffered = 0;
  for (const auto& [p, task] : tasks_) {
    accounts += task->processor->active_accounts();
    buffered += task->processor->buffered();
  }
  if (metrics_.active_accounts) metrics_.active_accounts->Set(accounts);
  if (metrics_.buffered) metrics_.buffered->Set(buffered);
  if (metrics_.state_bytes && o_.state_bytes) {
    metrics_.state_bytes->Set(o_.state_bytes());
  }
  if (metrics_.registry == nullptr) return;
  for (const auto& [p, input] : inputs_) {
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(consumer_.get(), o_.input_topic.c_str(),
                                       p, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      const int64_t position =
          input.emitted_next >= 0 ? input.emitted_next : low;
      metrics_.SetLag(
          o_.input_topic, p,
          static_cast<double>(std::max<int64_t>(0, high - position)));
    }
  }
  for (const auto& [p, task] : tasks_) {
    if (p < 0) continue;
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(task_consumer_.get(),
                                       o_.repartition_topic.c_str(), p, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      const int64_t position = task->next_offset >= 0 ? task->next_offset : low;
      metrics_.SetLag(
          o_.repartition_topic, p,
          static_cast<double>(std::max<int64_t>(0, high - position)));
    }
  }
}

void Runner::Backpressure() {
  if (!repartition() || inputs_.empty()) return;
  // Per repartition partition this process reads: the larger of what the
  // (cached) high watermark says and what this process produced to it minus
  // what its task has read (which also counts legs not yet acknowledged).
  int64_t worst = 0;
  for (const auto& [p, task] : tasks_) {
    int64_t lag = task->produced_here - task->consumed_here;
    int64_t low = 0, high = -1;
    if (rd_kafka_get_watermark_offsets(task_consumer_.get(),
                                       o_.repartition_topic.c_str(), p, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      lag = std::max(lag, high - std::max(task->next_offset, low));
    }
    worst = std::max(worst, lag);
  }
  const bool pause = worst > o_.max_repartition_lag;
  const bool resume = worst < o_.max_repartition_lag / 2;
  if ((pause && !input_paused_for_lag_) || (resume && input_paused_for_lag_)) {
    internal::TopicPartitionListPtr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(inputs_.size())));
    for (auto& [p, input] : inputs_) {
      if (!pause && input.queue.size() >= kMaxQueuedPerInput) continue;
      rd_kafka_topic_partition_list_add(list.get(), o_.input_topic.c_str(), p);
      input.paused = pause;
    }
    if (pause) {
      rd_kafka_pause_partitions(consumer_.get(), list.get());
    } else {
      rd_kafka_resume_partitions(consumer_.get(), list.get());
    }
    input_paused_for_lag_ = pause;
    LogEvent(LogLevel::kDebug, pause ? "input_paused" : "input_resumed",
             {{"repartition_lag", absl::StrCat(worst)}});
  }
}

absl::Status Runner::SendIdleMarkers() {
  if (!repartition()) return absl::OkStatus();
  for (auto& [p, input] : inputs_) {
    if (!input.queue.empty()) continue;
    if (input.idle_marker_sent.has_value() &&
        MillisSince(*input.idle_marker_sent) < kIdleMarkerRepeatMs) {
      continue;
    }
    if (!ConfirmIdle(&input)) continue;
    // To every task: whichever owns it (now or after a rebalance or
    // restart) learns that this input partition holds nothing back.
    const std::string source =
        absl::StrCat(o_.input_topic, "/", p, "@", input.next);
    leg_value_.clear();
    txflag::v1::AppendLegWire({LegSide::kIdleMarker, source, {}}, &leg_value_);
    for (int32_t q = 0; q < internal_partitions_; ++q) {
      TXFLAG_RETURN_IF_ERROR(repartition_producer_->Produce(
          "", leg_value_, "idle marker", source, {}, q));
    }
    input.idle_marker_sent = Clock::now();
  }
  return absl::OkStatus();
}

bool Runner::Idle() const {
  if (!assigned_once_) return false;
  // Between a revocation and the next assignment nothing is read: that is
  // a rebalance, not the end of the input.
  if (repartition() && !(inputs_assigned_ && tasks_assigned_)) return false;
  if (o_.input_finished != nullptr && !o_.input_finished->load()) return false;
  if (MillisSince(last_message_) < o_.exit_when_idle_ms) return false;
  for (const auto& [p, input] : inputs_) {
    if (!input.queue.empty() || !input.caught_up) return false;
  }
  for (const auto& [p, task] : tasks_) {
    if (p >= 0 && !task->caught_up) return false;
  }
  if (repartition_producer_ != nullptr) {
    const auto stats = repartition_producer_->stats();
    if (stats.sent != stats.delivered + stats.failed) return false;
  }
  return true;
}

absl::Status Runner::Finish(bool drain) {
  if (drain) {
    for (auto& [p, task] : tasks_) {
      TXFLAG_RETURN_IF_ERROR(task->processor->Drain());
    }
  }
  TXFLAG_RETURN_IF_ERROR(Commit(/*sync_offsets=*/true));
  Close();
  return callback_status_;
}

void Runner::Close() {
  closed_ = true;
  if (consumer_ == nullptr) return;
  // Leaves the group; the revocation callback commits again (cheap: nothing
  // changed) and drops the tasks.
  // Stage 1 first: its revocation flushes the legs it produced.
  consumer_queue_.reset();
  rd_kafka_consumer_close(consumer_.get());
  task_queue_.reset();
  if (task_consumer_ != nullptr) rd_kafka_consumer_close(task_consumer_.get());
  in_process_task_ = nullptr;
  tasks_.clear();
  inputs_.clear();
  if (o_.ready != nullptr) o_.ready->store(false);
}

absl::Status Runner::ReadFetched(rd_kafka_queue_t* queue, int max, int* taken) {
  // One batch read takes the queue's lock once for the whole group
  // (rd_kafka_consumer_poll took it, and read the clock, per message); it
  // serves rebalance and error events as the poll does. A group's values
  // are prefetched before the first is decoded: the queue holds up to
  // hundreds of thousands of messages, so each value's first read missed
  // every cache (13% of ParsePaymentWire was its first instruction).
  std::array<rd_kafka_message_t*, kPollGroup> group;
  for (int read = 0; read < max;) {
    const ssize_t got =
        rd_kafka_consume_batch_queue(queue, 0, group.data(), group.size());
    const size_t n = got > 0 ? static_cast<size_t>(got) : 0;
    if (n > 0) received_at_ = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_message_t* m = group[i];
      for (size_t at = 0; at < m->len; at += 64) {
        __builtin_prefetch(static_cast<const char*>(m->payload) + at);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      // On an error the run ends: the rest of the group is dropped
      // unprocessed, and read again from the last commit next time.
      absl::Status status = OnMessage(group[i]);
      rd_kafka_message_destroy(group[i]);
      if (!status.ok()) {
        for (size_t j = i + 1; j < n; ++j) rd_kafka_message_destroy(group[j]);
        return status;
      }
    }
    read += static_cast<int>(n);
    *taken += static_cast<int>(n);
    PublishCounts();
    if (n < group.size()) break;
  }
  return absl::OkStatus();
}

absl::Status Runner::Run() {
  const auto start = Clock::now();
  // Whichever way the run ends, the counts reach the metrics.
  struct PublishAtExit {
    Runner* runner;
    ~PublishAtExit() { runner->PublishCounts(); }
  } publish_at_exit{this};
  TXFLAG_RETURN_IF_ERROR(Setup());
  auto last_progress = Clock::now();
  auto last_backpressure = Clock::now();
  while (true) {
    if (stopping()) {
      LogEvent(LogLevel::kInfo, "stopping", {{"reason", "signal"}});
      absl::Status status = Finish(/*drain=*/false);
      summary_->seconds =
          std::chrono::duration<double>(Clock::now() - start).count();
      return status;
    }
    // Stage 2 first: the tasks' legs.
    int task_messages = 0;
    if (task_consumer_ != nullptr) {
      TXFLAG_RETURN_IF_ERROR(
          ReadFetched(task_queue_.get(), 5000, &task_messages));
      TXFLAG_RETURN_IF_ERROR(callback_status_);
    }
    internal::MessagePtr message(
        rd_kafka_consumer_poll(consumer_.get(), task_messages > 0 ? 0 : 5));
    TXFLAG_RETURN_IF_ERROR(callback_status_);
    if (message != nullptr) {
      received_at_ = Clock::now();
      TXFLAG_RETURN_IF_ERROR(OnMessage(message.get()));
      // Take what else is already fetched before emitting.
      int taken = 0;
      TXFLAG_RETURN_IF_ERROR(ReadFetched(consumer_queue_.get(), 1000, &taken));
      TXFLAG_RETURN_IF_ERROR(callback_status_);
    }
    TXFLAG_RETURN_IF_ERROR(EmitReady(/*force=*/false));
    if (repartition_producer_ != nullptr) repartition_producer_->Poll();
    if (MillisSince(last_backpressure) >= 50) {
      TXFLAG_RETURN_IF_ERROR(InProcessHousekeeping());
      Backpressure();
      TXFLAG_RETURN_IF_ERROR(SendIdleMarkers());
      last_backpressure = Clock::now();
    }
    if (MillisSince(last_commit_) >= o_.commit_interval_ms) {
      TXFLAG_RETURN_IF_ERROR(Commit());
    }
    if (MillisSince(last_progress) >= 10000) {
      LogEvent(
          LogLevel::kInfo, "progress",
          {{"input_messages", absl::StrCat(summary_->input_messages)},
           {"records_processed", absl::StrCat(summary_->records_processed)},
           {"alerts", absl::StrCat(summary_->alerts_raised)},
           {"revisions", absl::StrCat(summary_->alert_revisions)},
           {"dead_letters", absl::StrCat(summary_->dead_letters)},
           {"tasks", absl::StrCat(tasks_.size())}});
      last_progress = Clock::now();
    }
    if (o_.exit_when_idle_ms >= 0 && Idle()) {
      LogEvent(LogLevel::kInfo, "stopping", {{"reason", "input idle"}});
      TXFLAG_RETURN_IF_ERROR(EmitReady(/*force=*/true));
      absl::Status status = Finish(/*drain=*/true);
      summary_->seconds =
          std::chrono::duration<double>(Clock::now() - start).count();
      return status;
    }
  }
}

}  // namespace

absl::Status RunStream(const StreamRunnerOptions& options,
                       StreamRunSummary* summary) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  StreamRunSummary local;
  Runner runner(options, summary != nullptr ? summary : &local);
  return runner.Run();
}

}  // namespace txflag::connectors::kafka
