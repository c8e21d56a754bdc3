// File: connectors/kafka/stream_runner.h
//
// `txflag run`: the engine over Kafka. Consumes payments from an input topic,
// keeps account state in a StateStore (RocksDB), and produces every alert
// revision to an alerts topic, with the same rules and the same alerts as a
// back-test of the same payments. docs/streaming.md is the operator's guide;
// this is the contract.
//
//   StreamRunnerOptions options;
//   options.properties = {{"bootstrap.servers", servers}};
//   options.pack = &pack;
//   options.store = rocksdb.get();
//   options.stop = &g_stop;
//   TXFLAG_RETURN_IF_ERROR(RunStream(options));  // until *stop
//
// Two modes (StreamMode):
//
// kRepartition (the default; scale-out). Each process joins consumer group
// `group` with two consumers, one subscribed to the input topic, one to the
// repartition topic. Stage 1:
// a process reads its input partitions, merges them in event-time order and
// produces each payment twice to the repartition topic: the debit leg keyed
// by the debtor account, the credit leg keyed by the creditor account, to
// partition Fnv1a64(account) % partitions, as a txflag.v1.RepartitionLeg
// (side DEBIT or CREDIT, source = the input location
// "<topic>/<partition>@<offset>", the payment) with the input message's
// timestamp. Its input offsets are committed to the group once those legs
// are acknowledged (a periodic commit sends those a previous commit noted;
// revocation and shutdown flush the legs and send the current ones):
// at-least-once. Stage 2: each repartition
// partition is one task with its own engine::Processor (state key prefix
// "p<partition>/") that sees every leg of the accounts it owns. A task skips
// a leg whose (source partition, offset, leg) is not newer than the last one
// it took from that source partition, so legs repeated after a stage-1 crash
// are never counted twice. A task's event-time watermark is the oldest of its
// input partitions' (Processor::Options::streams): stage 1 sends an idle
// marker (a RepartitionLeg with side IDLE_MARKER, no key) to every
// repartition partition for an
// input partition that is caught up and silent, so only live partitions hold
// it back; a dead process's partitions hold it until their new owner
// resumes them.
//
// kInProcess (one process, no scale-out). The process assigns itself every
// input partition and runs one Processor over whole payments (prefix "all/"),
// as the back-test does; no repartition or changelog topic. Each input
// partition is one of the Processor's streams (its watermark is the oldest
// partition's), and a consumed payment goes to it at once. Commits keep the
// order below, but their waiting (alert and dead-letter acknowledgements,
// the RocksDB write, the group offsets) runs on a commit thread, one commit
// at a time; the processing thread only builds the batch.
//
// Effectively-once. A task's state, its repartition offset and its dedup
// positions are one checkpoint, written in one StateStore::Write. Commit
// order, every commit_interval_ms: (1) flush the repartition producer;
// (2) per task: flush the alert and dead-letter producers (acknowledged by
// the brokers), write the task's batch to its changelog partition
// (acknowledged), then to the local store; (3) commit input offsets (and, for
// lag monitoring only, the tasks' offsets) to the group. On assignment a task
// seeks to the offset stored with its state, never to the group's. A crash
// at any point replays from the last commit: the replay raises the same
// revisions (same alert_id, revision, content) again; none is lost.
//
// Recovery on takeover (kRepartition). Every task's writes are mirrored to
// partition p of the changelog topic (ChangelogStore). A process that is
// assigned a partition whose local state is not the changelog's latest
// commit rebuilds it from the changelog before processing it (the partition
// is not read until then; /healthz is 503 meanwhile).
//
// Bad input: a message that does not parse or fails validation, a leg the
// engine cannot use (late, no exchange rate) goes to the dead-letter topic
// with its reason and source location, and the run goes on. Broker outages:
// consumers and producers wait and retry (librdkafka's backoff; producers
// here default to message.timeout.ms=0, wait forever), one warning line per
// outage and one when the brokers answer again.
//
// Not thread-safe; RunStream() runs on the calling thread (plus, in
// kInProcess, one commit thread at a time) until *stop, an error, or
// (exit_when_idle_ms) the end of the input.
#ifndef TXFLAG_CONNECTORS_KAFKA_STREAM_RUNNER_H_
#define TXFLAG_CONNECTORS_KAFKA_STREAM_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "connectors/kafka/alert_sink.h"
#include "connectors/kafka/payment_producer.h"
#include "connectors/kafka/properties.h"
#include "engine/metrics_registry.h"
#include "engine/processor.h"
#include "engine/state_store.h"
#include "proto/alert.pb.h"
#include "rules/rule_pack.h"

namespace txflag::connectors::kafka {

enum class StreamMode { kRepartition, kInProcess };

// Repartition messages are txflag.v1.RepartitionLeg values
// (proto/repartition.proto, proto/leg_view.h). Up to commit 7b28626 the
// value was the bare Payment and these headers carried the rest; stage 2
// still reads such legs (an upgrade can find them in the topic).
inline constexpr char kLegHeader[] = "txflag.leg";  // "D", "C" or kIdleMarker
inline constexpr char kSourceHeader[] = "txflag.src";  // "payments/3@1234"
// txflag.leg of an idle marker: the input partition in txflag.src has
// nothing to send for now (no key, no value).
inline constexpr char kIdleMarker[] = "I";

struct StreamRunnerOptions {
  // librdkafka properties for every client (bootstrap.servers at least;
  // SASL/TLS and tuning pass through unchanged). Applied after txflag's
  // defaults, so they override them (not enable.idempotence / acks).
  KafkaProperties properties;
  std::string input_topic = "payments";
  std::string alerts_topic = "alerts";
  std::string dead_letter_topic = "payments.dlq";
  std::string group = "txflag";
  // Defaults "<group>.repartition" and "<group>.changelog".
  std::string repartition_topic;
  std::string changelog_topic;
  // Partitions of the repartition and changelog topics when txflag creates
  // them (kRepartition; both must have the same count). 0: as many as the
  // input topic. More partitions than processes leaves room to scale out.
  int32_t internal_partitions = 0;
  StreamMode mode = StreamMode::kRepartition;
  PaymentEncoding input_encoding = PaymentEncoding::kProtobuf;
  AlertEncoding alert_encoding = AlertEncoding::kProtobuf;

  const rules::CompiledPack* pack = nullptr;  // required
  engine::StateStore* store = nullptr;        // required (shared by tasks)
  int64_t allowed_lateness_seconds = 3600;

  // Commit (flush producers, write state and offsets) this often.
  int64_t commit_interval_ms = 1000;
  // Stage 1 waits at most this long for an input partition with nothing
  // buffered before emitting the others' payments (event-time alignment).
  int64_t max_input_idle_ms = 500;
  // Stage 1 pauses its input while a task of this process lags more than
  // this many legs behind its repartition partition, and resumes below half
  // (keeps the topic bounded; the librdkafka mock keeps only ~5 MiB, some
  // 30,000 legs, per partition).
  int64_t max_repartition_lag = 10000;
  // >= 0: treat the input as finished once every partition of this process
  // is caught up and nothing arrived for this long: drain the reorder
  // buffers, commit and return OK (demos, tests, catch-up jobs). < 0: run
  // until *stop.
  int64_t exit_when_idle_ms = -1;

  const std::atomic<bool>* stop = nullptr;  // required
  // Optional, with exit_when_idle_ms: the idle exit also waits for this to
  // be true (an in-process feeder says it has produced everything).
  const std::atomic<bool>* input_finished = nullptr;
  // Optional: where metrics go (see docs/streaming.md for the names).
  engine::MetricsRegistry* metrics = nullptr;
  // Optional: set true while partitions are assigned and restored.
  std::atomic<bool>* ready = nullptr;
  // Optional: every alert revision, as produced (the demo prints them).
  std::function<void(const txflag::v1::Alert&)> on_alert;
  // Optional: approximate bytes of state (the RocksDB store's estimate), for
  // the txflag_state_bytes gauge.
  std::function<double()> state_bytes;

  absl::Status Validate() const;
};

struct StreamRunSummary {
  int64_t input_messages = 0;     // consumed from the input topic
  int64_t legs_produced = 0;      // to the repartition topic
  int64_t records_processed = 0;  // given to processors (legs or payments)
  int64_t duplicates_skipped = 0;
  int64_t dead_letters = 0;
  int64_t alerts_raised = 0;  // new alerts (revision 1)
  int64_t alert_revisions = 0;
  int64_t commits = 0;
  int64_t rebalances = 0;
  double seconds = 0;
};

// Runs until *options.stop (then commits, leaves the group and returns OK),
// an unrecoverable error, or the end of input with exit_when_idle_ms.
absl::Status RunStream(const StreamRunnerOptions& options,
                       StreamRunSummary* summary = nullptr);

// The repartition partition of `account` among `partitions`.
int32_t RepartitionOf(std::string_view account, int32_t partitions);

}  // namespace txflag::connectors::kafka

#endif  // TXFLAG_CONNECTORS_KAFKA_STREAM_RUNNER_H_
