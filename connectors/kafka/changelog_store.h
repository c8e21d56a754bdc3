// File: connectors/kafka/changelog_store.h
//
// engine::StateStore for ONE state partition that mirrors every write to one
// partition of a Kafka changelog topic, so that the process that takes the
// partition over after a rebalance or a crash rebuilds exactly the committed
// state (what Kafka Streams does with its changelog topics). The local store
// (RocksDB, or engine::MemoryStateStore in tests) may be shared by several
// partitions under different key prefixes: this store only ever touches keys
// under its own `local_prefix`.
//
//   ChangelogStoreOptions options;
//   options.properties = {{"bootstrap.servers", servers}};
//   options.topic = "txflag.state.changelog";
//   options.partition = 3;
//   options.local_prefix = "p3/";
//   TXFLAG_ASSIGN_OR_RETURN(auto store, ChangelogStore::Create(options, db));
//   TXFLAG_RETURN_IF_ERROR(store->Restore());   // once, before use
//   ... Processor::Open(pack, popts, store.get(), ...) ...
//
// The changelog. Write(batch) is commit number seq = last seq + 1. Each op
// becomes one message on (topic, partition): key = the state key WITHOUT
// local_prefix, value = the value (a NULL value, a tombstone, for a delete),
// header "txflag.commit" = seq in decimal. Then a commit marker: key
// "\x01commit" (byte 0x01 then "commit"; state keys may not start with 0x01),
// value and header "txflag.commit" = seq. Write() waits until the brokers
// acknowledged all of them (idempotent producer, acks=all) and only then
// applies the batch to the local store, together with the local-only key
// `<local_prefix>meta/changelog` = seq (never produced; Scan() under the
// prefix shows it; a batch may not write it).
//
// Restore(). With the local seq (from `<local_prefix>meta/changelog`) and the
// partition's watermarks [low, high):
//   - empty partition: no committed state exists; every local key under the
//     prefix (a previous owner's leftovers) is deleted (DataLoss instead if
//     the empty partition starts past offset 0: retention deleted it all);
//   - fast path: the message at high-1 is the marker of the local seq: the
//     local state is current and nothing is read or written;
//   - full restore: DataLoss if low > 0 (the head of the partition was
//     deleted by retention: the topic must be compacted, cleanup.policy=
//     compact). Otherwise every local key under the prefix is deleted (the
//     meta key first, so an interrupted restore is never taken for current)
//     and the partition is replayed from low to high in order. Ops are
//     buffered until a marker follows them; a marker with seq S applies, in
//     log order, every buffered op with seq <= S. Not only those of seq S:
//     after compaction only the newest marker is left, and the ops of an
//     abandoned commit s < S were rewritten later in the log by the repair
//     commit (below), so replaying them first changes nothing. Ops left
//     without a marker at the end are the incomplete commit of an owner that
//     died in Write(): they are discarded (not applied) and REPAIRED by one
//     new commit, seq = the highest seq seen + 1, that puts each of their
//     keys' restored value (or a tombstone when the key is absent), so a
//     later restorer of the compacted topic never takes a half-written value.
//
// Assumptions. One writer per changelog partition at a time: nothing fences
// a previous owner that is still writing (the caller's partition assignment
// must guarantee it). Compaction between a crash and its repair can remove
// the previous value of a key the incomplete commit touched: set
// min.compaction.lag.ms on the topic longer than an owner's failover time.
// The librdkafka mock cluster keeps only about 5 MiB per partition and does
// not compact: past that, older commits vanish and a full restore is
// DataLoss.
//
// Errors. Restore(): kUnavailable when the brokers do not answer (watermarks
// within 10 s, or no message for restore_poll_timeout_ms while offsets remain),
// kNotFound for an unknown topic or partition, DataLoss for a changelog it
// cannot trust (head deleted, unreadable message), the local store's error
// otherwise. Write(): InvalidArgument for a key not under local_prefix (or
// reserved: 0x01 first, meta/changelog), before anything is produced;
// FailedPrecondition before a successful Restore(); the first delivery error
// (kUnavailable when the brokers are down for message.timeout.ms) or
// DeadlineExceeded after flush_timeout_ms. A Write() that failed after
// producing leaves the changelog possibly ahead of the local store: the error
// is sticky, so drop the store, create a new one and Restore(). After a failed
// Restore(), Write() is refused until one succeeds. Messages name
// topic/partition/offset, never keys or values (account numbers). Transient
// client problems go to on_client_error.
//
// Not thread-safe: one thread writes, restores and reads (delivery reports run
// on it). `local` must outlive the store.
#ifndef TXFLAG_CONNECTORS_KAFKA_CHANGELOG_STORE_H_
#define TXFLAG_CONNECTORS_KAFKA_CHANGELOG_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connectors/kafka/properties.h"
#include "engine/state_store.h"

namespace txflag::connectors::kafka {

// Key of a commit marker in the changelog.
// (Split literal: "\x01commit" would read as the hex escape \x01c.)
inline constexpr std::string_view kChangelogMarkerKey =
    "\x01"
    "commit";
// Header holding the commit seq (decimal) of every changelog message.
inline constexpr char kChangelogCommitHeader[] = "txflag.commit";
// Local key, after local_prefix, holding the last commit seq (decimal).
inline constexpr std::string_view kChangelogMetaKey = "meta/changelog";

class ChangelogProducer;

struct ChangelogStoreOptions {
  // librdkafka properties (bootstrap.servers at least), passed unchanged to
  // the producer (after client.id, linger.ms=5, log_level=2; before
  // enable.idempotence=true and acks=all, which may not be changed) and to
  // the restore consumer (after client.id, group.id=txflag-restore,
  // auto.offset.reset=error, log_level=2; before enable.auto.commit=false and
  // enable.partition.eof=true).
  KafkaProperties properties;
  // Changelog topic (required) and partition (required, >= 0).
  std::string topic;
  int32_t partition = -1;
  // Every key written or restored through this store starts with it, e.g.
  // "p3/" (required, ends in '/').
  std::string local_prefix;
  // How long Write() waits for acknowledgements, milliseconds; negative:
  // until each message is delivered or fails (message.timeout.ms, default
  // 300000). Default -1.
  int64_t flush_timeout_ms = -1;
  // Restore() gives up with kUnavailable when no message arrives for this
  // long while offsets remain, milliseconds (> 0). Default 10000.
  int restore_poll_timeout_ms = 10000;
  // Transient client errors (broker down, transport). Default: a
  // "warning: ..." line on stderr. Never given keys or values.
  std::function<void(const absl::Status&)> on_client_error;
  // Optional: a producer shared by the stores of one process (one set of
  // librdkafka threads and connections instead of one per partition; not
  // owned, must outlive the store, its topic must be `topic`).
  ChangelogProducer* shared_producer = nullptr;
  // With shared_producer: Write() only queues the commit; the caller flushes
  // the shared producer once for all stores (ChangelogProducer::Flush) and
  // then calls CompleteWrite() on each, which applies the commit locally.
  // One flush per commit round instead of one per partition.
  bool deferred = false;

  // InvalidArgument naming the field for a missing topic, partition, prefix
  // or brokers, a bad timeout, enable.idempotence / acks set otherwise, or
  // deferred without a shared producer.
  absl::Status Validate() const;
};

// The idempotent producer (acks=all) behind several ChangelogStores; each
// delivery report goes to the store that produced the message.
// Not thread-safe (one thread produces, flushes and polls).
class ChangelogProducer {
 public:
  // `properties` as ChangelogStoreOptions::properties.
  static absl::StatusOr<std::unique_ptr<ChangelogProducer>> Create(
      const KafkaProperties& properties, const std::string& topic,
      std::function<void(const absl::Status&)> on_client_error = nullptr);
  ChangelogProducer(const ChangelogProducer&) = delete;
  ChangelogProducer& operator=(const ChangelogProducer&) = delete;
  // Purges what is not delivered; destroy the stores first.
  ~ChangelogProducer();

  // Waits until every queued message of every store is acknowledged or
  // failed (a failure is the producing store's, see CompleteWrite), at most
  // `timeout_ms` (negative: no limit): DeadlineExceeded then.
  absl::Status Flush(int64_t timeout_ms = -1);

  struct Impl;

 private:
  explicit ChangelogProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class ChangelogStore;
};

class ChangelogStore : public engine::StateStore {
 public:
  struct RestoreStats {
    // The local state was current (the last message was its commit marker).
    bool fast_path = false;
    // Changelog messages read (1 on the fast path).
    int64_t messages_read = 0;
    // After a full restore: state keys under local_prefix (the meta key
    // excluded). 0 on the fast path and for an empty changelog.
    int64_t keys_restored = 0;
    // Ops of incomplete commits (no marker before the high watermark),
    // not applied.
    int64_t incomplete_ops_discarded = 0;
    // Ops in the repair commit written for them (0: no repair).
    int64_t repair_ops = 0;
    // Wall time of Restore().
    double seconds = 0;
  };

  // Validates `options` and creates the producer (librdkafka connects
  // lazily: no broker is contacted yet). `local` is not owned.
  static absl::StatusOr<std::unique_ptr<ChangelogStore>> Create(
      const ChangelogStoreOptions& options, engine::StateStore* local);

  ChangelogStore(const ChangelogStore&) = delete;
  ChangelogStore& operator=(const ChangelogStore&) = delete;
  // Purges what is not yet delivered (no waiting).
  ~ChangelogStore() override;

  // Brings the local keys under local_prefix up to date with the changelog
  // partition (see the file comment). Call once before Write(); fills
  // *stats if given, also on error (as far as it got).
  absl::Status Restore(RestoreStats* stats = nullptr);

  // The local store's Get / Scan: keys are full keys, prefix included.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  absl::Status Scan(
      std::string_view prefix,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn)
      override;

  // One commit: to the changelog first (acknowledged), then to the local
  // store. An empty batch does nothing. Errors: see the file comment.
  absl::Status Write(const engine::StateBatch& batch) override;

  // Deferred mode: after ChangelogProducer::Flush(), applies the queued
  // commit to the local store, or returns its delivery error (sticky, as a
  // failed Write). OK when nothing is queued.
  absl::Status CompleteWrite();

  // The seq of the last commit (0 for none); -1 before Restore().
  int64_t last_seq() const;

  struct Impl;

 private:
  explicit ChangelogStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txflag::connectors::kafka

#endif  // TXFLAG_CONNECTORS_KAFKA_CHANGELOG_STORE_H_
