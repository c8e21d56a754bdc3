// File: engine/processor.h
//
// The engine proper: takes payments in arrival order, puts them in event-time
// order, updates both accounts' windows, runs every rule on the account it
// judges, and raises or extends alerts. State lives in memory (the working
// set of active accounts) and is mirrored to a StateStore in atomic commits
// that also hold the input position, so a run killed at any point resumes
// exactly.
//
//   Processor::Options options;
//   TXFLAG_ASSIGN_OR_RETURN(auto processor,
//       Processor::Open(pack, options, &store, &rejects, /*alerts=*/nullptr));
//   TXFLAG_RETURN_IF_ERROR(source.Restore(processor->source_checkpoint()));
//   while (source.Next(&record)) {
//     TXFLAG_RETURN_IF_ERROR(processor->Process(&record));
//     if (time to commit) processor->Commit(source.Checkpoint());
//   }
//   processor->Drain(); processor->Commit(source.Checkpoint());
//
// Alert revisions go to the alert sink (if any) as they are raised; Commit()
// flushes the sink before it stores the state that raised them.
//
// Event time: a payment more than `allowed_lateness_seconds` older than the
// newest timestamp seen so far is late: it is rejected (reason "late") and
// counted. Others wait in a reorder buffer until the watermark (newest
// timestamp - allowed lateness) passes them, then are processed in
// (timestamp, arrival) order. The result depends only on the input order and
// the rule pack, never on timing or commit points.
//
// Not thread-safe: one thread drives a Processor. Several Processors (one per
// Kafka partition) may share one StateStore under different key prefixes.
#ifndef TXFLAG_ENGINE_PROCESSOR_H_
#define TXFLAG_ENGINE_PROCESSOR_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/alert_sink.h"
#include "engine/local_time.h"
#include "engine/reorder_buffer.h"
#include "engine/source.h"
#include "engine/state_store.h"
#include "proto/alert.pb.h"
#include "proto/state.pb.h"
#include "rules/rule_pack.h"

namespace txflag::engine {

class Processor {
 public:
  struct Options {
    // How far behind the newest timestamp seen a payment may arrive and still
    // be processed in order. Seconds; default 1 hour.
    int64_t allowed_lateness_seconds = 3600;
    // Prefix of every key this processor writes ("t0/"); one per task.
    std::string state_prefix = "t0/";
    // Stop at the first rejected record with InvalidArgument naming it,
    // instead of writing it to the rejects sink.
    bool strict = false;
    // Keep every alert's latest revision under <prefix>alert/ (what
    // ForEachAlert reads: the back-test's alerts.jsonl). A streaming run,
    // whose revisions go to an alert sink, turns it off: the state then only
    // holds open alerts.
    bool keep_alert_history = true;
    // 0: the input is one stream, and the watermark is the newest timestamp
    // seen minus the allowed lateness. N > 0: records come from N
    // independently progressing streams (SourceRecord::stream; a Kafka
    // task hears from every input partition through every stage-1
    // process), and the watermark is the OLDEST of the streams' newest
    // timestamps (over the streams not marked idle) minus the allowed
    // lateness: a stream that runs ahead waits in the reorder buffer for the
    // others instead of making their payments late. A stream never seen
    // holds the watermark back until SetStreamIdle() says it is idle.
    int32_t streams = 0;
    // Whether Commit/PrepareCommit store the payments waiting in the reorder
    // buffer, so that Open gives them back. A source that can read its
    // input again (a Kafka partition) turns this off and re-reads instead,
    // from OldestBufferedPosition() of each stream, kept with its own
    // checkpoint: a record read again has been processed already when its
    // timestamp is <= released_ts() at the commit, and was waiting when it
    // is newer (Process must then be given it again). Storing the buffer
    // cost a copy of every payment into RocksDB and a delete after: with
    // partitions a few thousand messages apart, hundreds of megabytes per
    // minute. Payments buffered in state written with this on are still
    // restored.
    bool persist_buffer = true;
    // Names a record's place for a reject when the source left
    // SourceRecord::location empty and gave a position: a Kafka source
    // builds "topic/partition@offset" only for the few records rejected,
    // not for every message (and the reorder buffer does not store it).
    std::function<std::string(int32_t stream, int64_t position)> locate;
    // When > 0 and on_rule_evaluation is set: time one rule evaluation in
    // every `evaluation_sample_every` and report it in seconds (a metrics
    // histogram). Sampling keeps the clock reads off the hot path.
    int evaluation_sample_every = 0;
    std::function<void(double seconds)> on_rule_evaluation;
    // Called for each leg skipped as a repeat (Stats::repeated_legs): the
    // account's windows already hold the same payment id with the same
    // time, direction, counterparty and amount. Rare; for a metric.
    std::function<void()> on_repeated_leg;

    absl::Status Validate() const;
  };

  using Stats = txflag::v1::state::ProcessorStats;

  // Opens a processor over `store`, restoring the state and checkpoint found
  // under options.state_prefix (a fresh state when there is none) and
  // rewinding `rejects` to its checkpoint. `pack`, `store` and `rejects` must
  // outlive the processor; `alerts` may be null (revisions are then only kept
  // in the store). Returns FailedPrecondition when the stored state was made
  // with another rule pack, DataLoss when it is corrupt.
  static absl::StatusOr<std::unique_ptr<Processor>> Open(
      const rules::CompiledPack* pack, Options options, StateStore* store,
      RejectSink* rejects, AlertSink* alerts);

  // The source position stored with the state ("" for a fresh state): hand
  // it to PaymentSource::Restore before reading.
  const std::string& source_checkpoint() const { return checkpoint_.source(); }

  // Takes one record (copied; the caller may reuse it). Rejects go to the
  // rejects sink (or, with Options::strict, end the run with InvalidArgument).
  // Payments are buffered and processed once the watermark passes them.
  absl::Status Process(SourceRecord* record);

  // End of input: processes everything still in the reorder buffer.
  absl::Status Drain();

  // With Options::streams > 0: whether stream `stream` (0..streams-1) is
  // idle, i.e. left out of the watermark until its next record (the caller
  // decides, e.g. after some wall time without records from it). Then
  // processes whatever the new watermark releases.
  absl::Status SetStreamIdle(int32_t stream, bool idle);

  // With Options::streams > 0: the watermark does not pass `limit` (nothing
  // newer is released) until the limit is lifted with INT64_MAX, which then
  // processes whatever the watermark releases. For a source that reads
  // payments again after a restart (persist_buffer off): until it has read
  // them all, the watermark must not pass one it has not read yet.
  absl::Status SetReleaseLimit(int64_t limit);

  // Atomically stores the state changed since the last commit together with
  // `source_checkpoint` (the position after the last record given to
  // Process) and the rejects sink's position. Alert revisions are flushed to
  // the alert sink first, so none is lost if the commit fails or the process
  // dies after it.
  absl::Status Commit(std::string source_checkpoint);

  // Commit() in two halves, for a caller that writes off this thread: puts
  // into *batch everything Commit() would write (with `source_checkpoint`
  // and `rejects_checkpoint`, the rejects sink's position) and counts it as
  // stored. Flushes nothing: the caller must see every alert revision
  // emitted so far and every reject up to `rejects_checkpoint`
  // acknowledged before it writes the batch, and must write the batches in
  // order. If a write fails, discard this processor (its memory counts
  // that batch as stored) and reopen from the store.
  absl::Status PrepareCommit(std::string source_checkpoint,
                             std::string rejects_checkpoint, StateBatch* batch);

  const Stats& stats() const { return checkpoint_.stats(); }
  // Accounts held in memory (the working set).
  size_t active_accounts() const { return accounts_.size() + collided_.size(); }
  // Payments waiting in the reorder buffer.
  size_t buffered() const { return buffer_.size(); }
  // The smallest SourceRecord::position of the payments from `stream` (the
  // lane; -1 with Options::streams == 0) waiting in the reorder buffer; -1
  // when none of them has a position.
  int64_t OldestBufferedPosition(int32_t stream) const {
    return buffer_.OldestPosition(stream < 0 ? 0 : stream);
  }
  // Every payment with a timestamp <= released_ts() has been processed (or
  // rejected); every one still buffered is newer. INT64_MIN before the
  // first release. Stored with the state.
  int64_t released_ts() const { return checkpoint_.released_ts(); }

  // Calls fn with the latest revision of every alert in the store, ordered by
  // alert id. Commit first to include the newest changes.
  absl::Status ForEachAlert(
      const std::function<void(const txflag::v1::Alert&)>& fn);

 private:
  struct OpenAlert {
    txflag::v1::state::OpenAlert proto;
    absl::flat_hash_set<std::string> evidence_ids;
    bool changed = false;  // to be written at the next commit
  };
  struct Account {
    std::string name;  // the account id
    // One per rule, allocated when the rule first keeps a leg of the
    // account (most accounts only ever use one or two).
    std::vector<std::unique_ptr<rules::Window>> windows;
    std::vector<OpenAlert> open_alerts;
    int64_t last_leg_ts = 0;  // newest leg kept in any window
    bool dirty = false;       // listed in dirty_ (and so never forgotten)
    // Bit i: window i changed since the last commit / has a key in the store.
    uint64_t changed_windows = 0;
    uint64_t stored_windows = 0;
    bool alerts_changed = false;  // open_alerts changed since the last commit
    bool alerts_stored = false;   // open_alerts have a key in the store
  };
  // What a forgotten account had in the store, to delete at the next commit.
  struct Forgotten {
    std::string account;
    uint64_t stored_windows = 0;
    bool alerts_stored = false;
  };

  Processor(const rules::CompiledPack* pack, Options options, StateStore* store,
            RejectSink* rejects, AlertSink* alerts);

  absl::Status Restore();
  absl::Status Reject(std::string_view location, std::string_view reason,
                      std::string_view raw);
  // Processes buffered payments up to (and including) timestamp `until`.
  absl::Status Release(int64_t until);
  absl::Status ProcessPayment(const txflag::v1::PaymentView& payment,
                              std::string_view location, Legs legs);
  // Base-currency minor units per minor unit of `currency`, or nullopt when
  // the pack has no rate for it.
  std::optional<double> ConversionFactor(std::string_view currency);
  absl::Status ProcessLeg(const txflag::v1::PaymentView& payment,
                          std::string_view account, rules::Leg* leg);
  Account* FindOrCreateAccount(std::string_view account);
  // Puts `account` on the list of accounts to write at the next commit.
  void MarkDirty(Account* account);
  void RaiseOrExtend(const std::string& account, Account* state,
                     size_t rule_index, const rules::Rule& rule,
                     const rules::Hit& hit, const rules::Leg& leg);
  // Closes expired alerts and forgets accounts whose every leg is older than
  // the longest window and that have no open alert. Windows of live accounts
  // are not touched: rules evict before they evaluate.
  void Sweep(int64_t now);
  std::string WindowKey(std::string_view account, size_t rule_index) const;
  std::string OpenAlertsKey(std::string_view account) const;
  std::string AlertKey(std::string_view alert_id) const;
  std::string CheckpointKey() const;
  // <prefix>buf/<seq, 20 digits>: one buffered payment (format 3).
  std::string BufferKey(int64_t seq) const;

  const rules::CompiledPack* pack_;
  Options options_;
  StateStore* store_;
  RejectSink* rejects_;
  AlertSink* alerts_;
  LocalClock clock_;
  int64_t suppression_seconds_;

  txflag::v1::state::Checkpoint checkpoint_;
  // The working set, by a hash of the account id: a probe compares 64-bit
  // keys in the table instead of strings elsewhere in memory. An id whose
  // hash is already taken by another id (never seen in practice, but
  // possible) lives in collided_.
  absl::flat_hash_map<uint64_t, std::unique_ptr<Account>> accounts_;
  absl::flat_hash_map<std::string, std::unique_ptr<Account>> collided_;
  std::vector<Account*> dirty_;            // accounts changed since commit
  std::vector<Forgotten> forgotten_;       // accounts to delete at commit
  std::vector<txflag::v1::Alert> closed_;  // alerts closed since commit
  // Payments waiting for the watermark, and the one being processed.
  ReorderBuffer buffer_;
  // SourceRecord::location, or Options::locate's name for (stream,
  // position) when it is empty.
  std::string Locate(std::string_view location, int32_t stream,
                     int64_t position) const;
  // current_ and current_location_ point into buffer_ (see PopUntil).
  txflag::v1::PaymentView current_;
  std::string_view current_location_;
  int64_t max_window_seconds_ = 0;  // longest window of any rule
  // Base-currency minor units per minor unit, by CurrencyIndex(); 0 where
  // the pack has no rate.
  std::vector<double> factors_;
  // The first error of alerts_->Emit (returned by the next Process, Drain or
  // Commit).
  absl::Status sink_status_;
  Legs current_legs_ = Legs::kBoth;
  int64_t current_seq_ = 0;
  int32_t current_lane_ = 0;
  int64_t current_position_ = -1;
  // Buffered payments with seq <= stored_seq_ have a buf/ key; those
  // processed since the last commit and in `released_` lose it at the next.
  int64_t stored_seq_ = -1;
  std::vector<int64_t> released_;
  int64_t evaluations_ = 0;  // counts down to the next timed evaluation
  // Options::streams > 0: which streams are idle (not persisted; a restart
  // starts with all active).
  std::vector<bool> stream_idle_;
  int64_t release_limit_ = std::numeric_limits<int64_t>::max();
  // Recomputes the multi-stream watermark and releases up to it.
  absl::Status AdvanceStreams();
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_PROCESSOR_H_
