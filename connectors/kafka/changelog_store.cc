#include "connectors/kafka/changelog_store.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "connectors/kafka/internal/producer.h"
#include "connectors/kafka/internal/rdkafka_handles.h"

namespace txflag::connectors::kafka {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWatermarkTimeoutMs = 10000;
// Local deletes per write when clearing the prefix.
constexpr size_t kDeleteChunk = 10000;
// Restored ops are written to the local store in batches of about this size.
constexpr size_t kApplyBytes = 4 << 20;

// A commit seq: decimal digits only, fits in int64.
bool ParseSeq(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string_view Bytes(const void* data, size_t size) {
  if (data == nullptr) return {};
  return std::string_view(static_cast<const char*>(data), size);
}

// One changelog message, parsed (views into the librdkafka message).
struct ChangelogMessage {
  bool marker = false;
  int64_t seq = 0;
  std::string_view key;                   // state key without the prefix
  std::optional<std::string_view> value;  // nullopt: a tombstone
};

// A restored op waiting for its commit marker.
struct PendingOp {
  int64_t seq = 0;
  std::string key;  // without the prefix
  std::optional<std::string> value;
};

// Closes (then destroys) a consumer on every path out of Restore().
struct ConsumerCloser {
  internal::HandlePtr handle;
  ~ConsumerCloser() {
    if (handle != nullptr) {
      // Assigned, not subscribed, nothing to commit: closing cannot lose
      // anything.
      IgnoreError(internal::KafkaStatus(rd_kafka_consumer_close(handle.get()),
                                        "close"));
    }
  }
};

}  // namespace

absl::Status ChangelogStoreOptions::Validate() const {
  TXFLAG_RETURN_IF_ERROR(
      internal::ValidateProducerConfig(properties, topic, "changelog store"));
  if (partition < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "changelog store for topic '", topic, "': partition ", partition,
        " is not a partition (set ChangelogStoreOptions::partition >= 0)"));
  }
  if (local_prefix.empty() || local_prefix.back() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "changelog store for ", topic, "/", partition, ": local_prefix '",
        local_prefix,
        "' must be non-empty and end in '/' (e.g. \"p3/\") so that the "
        "partitions sharing a local store cannot overlap"));
  }
  if (deferred && shared_producer == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("changelog store for ", topic, "/", partition,
                     ": deferred writes need a shared_producer to flush"));
  }
  if (restore_poll_timeout_ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("changelog store for ", topic, "/", partition,
                     ": restore_poll_timeout_ms must be positive, not ",
                     restore_poll_timeout_ms));
  }
  return absl::OkStatus();
}

struct ChangelogStore::Impl {
  ChangelogStoreOptions options;
  engine::StateStore* local = nullptr;
  std::string bootstrap_servers;
  std::string where;     // "changelog <topic>/<partition>"
  std::string meta_key;  // local_prefix + kChangelogMetaKey
  int64_t last_seq = -1;
  // The first delivery error (sticky). Written by the delivery callback,
  // which runs on the thread calling poll/flush: the caller's.
  absl::Status first_error;
  // Sticky: a Write() failed after producing (the changelog may be ahead of
  // the local store).
  absl::Status broken;
  // Set by the error callback while the restore consumer polls.
  absl::Status consumer_error;
  bool consumer_fatal = false;
  // Deferred mode: the commit queued by Write(), applied by
  // CompleteWrite().
  std::optional<engine::StateBatch> deferred_batch;
  int64_t deferred_seq = -1;
  // The producer: the shared one, or owned_producer.
  rd_kafka_t* producer = nullptr;
  ChangelogProducer::Impl* shared = nullptr;
  // Last, so it is destroyed first, while the callbacks' state still lives.
  internal::HandlePtr owned_producer;

  ~Impl();

  // The producer to flush: every message of this store is in it.
  absl::Status FlushProducer(std::string_view seq);

  std::string At(int64_t offset) const {
    return absl::StrCat(where, "@", offset);
  }

  void Report(const absl::Status& status) const {
    if (options.on_client_error) {
      options.on_client_error(status);
    } else {
      std::fprintf(stderr, "warning: %s\n", status.ToString().c_str());
    }
  }

  // Delivery reports: each message carries its store as msg_opaque.
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                         void* opaque) {
    static_cast<Impl*>(message->_private)->Delivered(rk, message);
  }

  void Delivered(rd_kafka_t* rk, const rd_kafka_message_t* message) {
    Impl* self = this;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (!self->first_error.ok()) return;
    absl::Status status = internal::DeliveryError(
        rk, message, absl::StrCat("delivering a commit to ", self->where),
        self->bootstrap_servers, "recreate the store and Restore()");
    self->first_error = std::move(status);
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason,
                      void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    const bool consumer = rd_kafka_type(rk) == RD_KAFKA_CONSUMER;
    absl::Status status = internal::KafkaStatus(
        static_cast<rd_kafka_resp_err_t>(err),
        absl::StrCat("Kafka ", consumer ? "restore consumer" : "producer",
                     " of ", self->where, " (brokers ", self->bootstrap_servers,
                     "): ", reason));
    if (status.ok()) return;
    const bool transient = status.code() == absl::StatusCode::kUnavailable;
    if (consumer) {
      if (err == RD_KAFKA_RESP_ERR__FATAL) self->consumer_fatal = true;
      // Read() returns a permanent error; a transient one only names the
      // cause if the restore times out.
      if (!transient || self->consumer_error.ok()) {
        self->consumer_error = status;
      }
      if (!transient) return;
    }
    // The producer's permanent errors also fail the delivery reports.
    self->Report(status);
  }

  // Queues one message for (topic, partition); waits while the local queue
  // is full. `value` nullopt produces a tombstone (NULL value).
  absl::Status Produce(std::string_view key,
                       std::optional<std::string_view> value,
                       std::string_view seq) {
    void* payload =
        value.has_value() ? const_cast<char*>(value->data()) : nullptr;
    const size_t size = value.has_value() ? value->size() : 0;
    static const char kEmpty[1] = {0};
    if (value.has_value() && payload == nullptr) {
      payload = const_cast<char*>(kEmpty);  // an empty value, not a tombstone
    }
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(options.topic.c_str()),
          RD_KAFKA_V_OPAQUE(this), RD_KAFKA_V_PARTITION(options.partition),
          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_VALUE(payload, size),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_HEADER(kChangelogCommitHeader, seq.data(),
                            static_cast<ssize_t>(seq.size())),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return internal::KafkaStatus(
            err, absl::StrCat("queueing commit ", Av(seq), " for ", where));
      }
      // The local queue is full: wait for deliveries to make room. Every
      // queued message completes within message.timeout.ms, so this ends.
      rd_kafka_poll(producer, 50);
      if (!first_error.ok()) return first_error;
    }
    rd_kafka_poll(producer, 0);
    return first_error;
  }

  // Waits until every queued message is acknowledged (or failed).
  absl::Status Flush(std::string_view seq) {
    const int64_t timeout_ms = options.flush_timeout_ms;
    const auto deadline = Clock::now() + std::chrono::milliseconds(
                                             std::max<int64_t>(timeout_ms, 0));
    while (rd_kafka_flush(producer, 100) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (timeout_ms >= 0 && Clock::now() >= deadline) {
        if (!first_error.ok()) return first_error;
        return absl::DeadlineExceededError(
            absl::StrCat("commit ", Av(seq), " to ", where, ": ",
                         rd_kafka_outq_len(producer),
                         " messages still unacknowledged after ", timeout_ms,
                         " ms (flush_timeout_ms); check that the brokers (",
                         bootstrap_servers, ") are up"));
      }
    }
    return first_error;
  }

  // The body of Write(), also used for the repair commit (never deferred).
  absl::Status Commit(const engine::StateBatch& batch, bool defer) {
    if (!broken.ok()) return broken;
    if (deferred_batch.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("write to ", where, ": the previous deferred commit ",
                       deferred_seq, " was not completed (CompleteWrite)"));
    }
    if (!first_error.ok()) return first_error;
    if (batch.empty()) return absl::OkStatus();
    const std::string_view prefix = options.local_prefix;
    absl::Status invalid;
    size_t index = 0;
    batch.ForEach([&](std::string_view key, std::optional<std::string_view>) {
      if (invalid.ok()) {
        // Name the op by its position: keys may be account numbers.
        if (!key.starts_with(prefix)) {
          invalid = absl::InvalidArgumentError(
              absl::StrCat("write to ", where, ": op ", index,
                           " of the batch has a key outside local_prefix '",
                           options.local_prefix, "'; nothing was written"));
        } else if (key == meta_key) {
          invalid = absl::InvalidArgumentError(absl::StrCat(
              "write to ", where, ": op ", index, " of the batch writes '",
              meta_key,
              "', which the changelog store keeps itself; nothing was "
              "written"));
        } else if (key.size() > prefix.size() && key[prefix.size()] == '\x01') {
          invalid = absl::InvalidArgumentError(absl::StrCat(
              "write to ", where, ": op ", index,
              " of the batch has a key whose first byte after local_prefix is "
              "0x01 (reserved for changelog markers); nothing was written"));
        }
      }
      ++index;
    });
    TXFLAG_RETURN_IF_ERROR(invalid);

    const int64_t seq = last_seq + 1;
    const std::string seq_text = absl::StrCat(seq);
    absl::Status status;
    engine::StateBatch local_batch;
    batch.ForEach(
        [&](std::string_view key, std::optional<std::string_view> value) {
          if (!status.ok()) return;
          status = Produce(key.substr(prefix.size()), value, seq_text);
          if (value.has_value()) {
            local_batch.Put(key, *value);
          } else {
            local_batch.Delete(key);
          }
        });
    if (status.ok()) status = Produce(kChangelogMarkerKey, seq_text, seq_text);
    if (status.ok() && defer) {
      local_batch.Put(meta_key, seq_text);
      deferred_batch = std::move(local_batch);
      deferred_seq = seq;
      last_seq = seq;  // the next commit's number follows it
      return absl::OkStatus();
    }
    if (status.ok()) status = Flush(seq_text);
    if (!status.ok()) {
      broken = absl::Status(
          status.code(),
          absl::StrCat(status.message(), "; commit ", seq,
                       " may be partly in the changelog and is not in the "
                       "local store: create a new ChangelogStore and "
                       "Restore()"));
      return broken;
    }
    local_batch.Put(meta_key, seq_text);
    status = local->Write(local_batch);
    if (!status.ok()) {
      broken = absl::Status(
          status.code(),
          absl::StrCat(
              "writing commit ", seq, " of ", where,
              " to the local store (the changelog has it): ", status.message(),
              "; create a new ChangelogStore and Restore()"));
      return broken;
    }
    last_seq = seq;
    return absl::OkStatus();
  }

  // Deletes every local key under the prefix (the meta key first, so an
  // interrupted clear or restore is never taken for current state).
  absl::Status ClearLocal() {
    engine::StateBatch batch;
    batch.Delete(meta_key);
    TXFLAG_RETURN_IF_ERROR(local->Write(batch));
    std::string last_deleted;
    while (true) {
      std::vector<std::string> keys;
      TXFLAG_RETURN_IF_ERROR(local->Scan(
          options.local_prefix, [&](std::string_view key, std::string_view) {
            keys.emplace_back(key);
            return keys.size() < kDeleteChunk;
          }));
      if (keys.empty()) return absl::OkStatus();
      if (!last_deleted.empty() && keys.front() <= last_deleted) {
        return absl::InternalError(absl::StrCat(
            "clearing local keys under '", options.local_prefix,
            "' for a restore of ", where,
            ": the local store still holds keys it was told to delete"));
      }
      batch.Clear();
      for (const std::string& key : keys) batch.Delete(key);
      TXFLAG_RETURN_IF_ERROR(local->Write(batch));
      last_deleted = std::move(keys.back());
    }
  }

  absl::StatusOr<ChangelogMessage> Parse(const rd_kafka_message_t& m) const {
    ChangelogMessage out;
    if (m.key == nullptr) {
      return absl::DataLossError(
          absl::StrCat("restoring ", At(m.offset),
                       ": message without a key (not written by a txflag "
                       "changelog store)"));
    }
    const std::string_view key = Bytes(m.key, m.key_len);
    if (key == kChangelogMarkerKey) {
      out.marker = true;
      if (!ParseSeq(Bytes(m.payload, m.len), &out.seq)) {
        return absl::DataLossError(
            absl::StrCat("restoring ", At(m.offset),
                         ": commit marker whose value is not a commit number"));
      }
      return out;
    }
    if (!key.empty() && key[0] == '\x01') {
      return absl::DataLossError(
          absl::StrCat("restoring ", At(m.offset),
                       ": unknown control key (first byte 0x01, not a "
                       "commit marker); written by a newer txflag?"));
    }
    if (key == kChangelogMetaKey) {
      return absl::DataLossError(absl::StrCat(
          "restoring ", At(m.offset), ": message with the reserved key '",
          Av(kChangelogMetaKey), "'"));
    }
    rd_kafka_headers_t* headers = nullptr;
    const void* header = nullptr;
    size_t header_size = 0;
    if (rd_kafka_message_headers(&m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(headers, kChangelogCommitHeader, &header,
                                 &header_size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        !ParseSeq(Bytes(header, header_size), &out.seq)) {
      return absl::DataLossError(absl::StrCat(
          "restoring ", At(m.offset), ": state message without a readable '",
          kChangelogCommitHeader,
          "' header (not written by a txflag "
          "changelog store)"));
    }
    out.key = key;
    if (m.payload != nullptr) out.value = Bytes(m.payload, m.len);
    return out;
  }

  // Reads [from, to) in order with `consumer`, calling fn on each message.
  // kUnavailable when nothing arrives for restore_poll_timeout_ms.
  template <typename Fn>
  absl::Status Read(rd_kafka_t* consumer, int64_t from, int64_t to,
                    int64_t* read, Fn fn) {
    internal::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), options.topic.c_str(),
                                      options.partition)
        ->offset = from;
    TXFLAG_RETURN_IF_ERROR(
        internal::KafkaStatus(rd_kafka_assign(consumer, list.get()),
                              absl::StrCat("assigning ", At(from))));
    const auto timeout =
        std::chrono::milliseconds(options.restore_poll_timeout_ms);
    int64_t next = from;
    auto progress = Clock::now();
    while (next < to) {
      const auto waited = Clock::now() - progress;
      if (waited >= timeout) {
        std::string cause;
        if (!consumer_error.ok()) {
          cause = absl::StrCat(
              " (last client error: ", consumer_error.message(), ")");
        }
        return absl::UnavailableError(absl::StrCat(
            "restoring ", where, ": no message for ",
            options.restore_poll_timeout_ms, " ms at offset ", next,
            " of high watermark ", to, cause, "; check that the brokers (",
            bootstrap_servers, ") are up, then Restore() again"));
      }
      const int wait_ms = static_cast<int>(std::clamp<int64_t>(
          std::chrono::ceil<std::chrono::milliseconds>(timeout - waited)
              .count(),
          1, 100));
      internal::MessagePtr m(rd_kafka_consumer_poll(consumer, wait_ms));
      if (consumer_fatal) {
        char reason[512];
        rd_kafka_resp_err_t cause =
            rd_kafka_fatal_error(consumer, reason, sizeof(reason));
        return absl::UnavailableError(
            absl::StrCat("restoring ", At(next), ": fatal consumer error ",
                         rd_kafka_err2name(cause), ": ", reason));
      }
      if (!consumer_error.ok() &&
          consumer_error.code() != absl::StatusCode::kUnavailable) {
        return consumer_error;  // authorization, unknown partition, ...
      }
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (m->offset >= to) break;  // the rest were not data messages
        continue;
      }
      if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        return absl::DataLossError(absl::StrCat(
            "restoring ", At(next), ": offset ", next,
            " is no longer on the brokers (deleted while restoring); the "
            "changelog topic must be compacted (cleanup.policy=compact): ",
            rd_kafka_message_errstr(m.get())));
      }
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        absl::Status status =
            internal::KafkaStatus(m->err, absl::StrCat("restoring ", At(next)));
        if (status.code() != absl::StatusCode::kUnavailable) return status;
        Report(status);
        continue;  // transient: until the no-progress timeout
      }
      if (m->offset < next) continue;  // before the assignment took effect
      ++*read;
      TXFLAG_RETURN_IF_ERROR(fn(*m));
      next = m->offset + 1;
      progress = Clock::now();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<internal::HandlePtr> NewConsumer() {
    TXFLAG_ASSIGN_OR_RETURN(internal::ConfPtr conf,
                            internal::NewConf({
                                {"client.id", "txflag-changelog-restore"},
                                {"group.id", "txflag-restore"},
                                {"enable.auto.offset.store", "false"},
                                {"auto.offset.reset", "error"},
                                {"log_level", "2"},
                            }));
    for (const auto& [key, value] : options.properties) {
      TXFLAG_RETURN_IF_ERROR(internal::SetConf(conf.get(), key, value));
    }
    TXFLAG_RETURN_IF_ERROR(
        internal::SetConf(conf.get(), "enable.auto.commit", "false"));
    TXFLAG_RETURN_IF_ERROR(
        internal::SetConf(conf.get(), "enable.partition.eof", "true"));
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::OnError);
    rd_kafka_conf_set_opaque(conf.get(), this);
    TXFLAG_ASSIGN_OR_RETURN(
        internal::HandlePtr handle,
        internal::NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
    // Serve the error callback from rd_kafka_consumer_poll().
    TXFLAG_RETURN_IF_ERROR(internal::KafkaStatus(
        rd_kafka_poll_set_consumer(handle.get()), "poll_set_consumer"));
    return handle;
  }

  absl::Status Restore(RestoreStats* stats);
  absl::Status FullRestore(rd_kafka_t* consumer, int64_t high,
                           RestoreStats* stats);
};

absl::Status ChangelogStore::Impl::Restore(RestoreStats* stats) {
  // 1. The local seq.
  std::optional<int64_t> local_seq;
  TXFLAG_ASSIGN_OR_RETURN(std::optional<std::string> meta,
                          local->Get(meta_key));
  int64_t parsed = 0;
  // An unreadable meta value is treated as absent: the full restore below
  // rebuilds the prefix and rewrites it.
  if (meta.has_value() && ParseSeq(*meta, &parsed)) local_seq = parsed;

  // 2. The watermarks.
  consumer_error = absl::OkStatus();
  consumer_fatal = false;
  ConsumerCloser consumer;
  TXFLAG_ASSIGN_OR_RETURN(consumer.handle, NewConsumer());
  int64_t low = 0;
  int64_t high = 0;
  absl::Status status = internal::KafkaStatus(
      rd_kafka_query_watermark_offsets(consumer.handle.get(),
                                       options.topic.c_str(), options.partition,
                                       &low, &high, kWatermarkTimeoutMs),
      absl::StrCat("restoring ", where, ": reading its watermarks"));
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kUnavailable) {
      return absl::UnavailableError(absl::StrCat(
          status.message(), "; check that the brokers (", bootstrap_servers,
          ") are up and reachable, then Restore() again"));
    }
    return absl::Status(
        status.code(),
        absl::StrCat(status.message(), " (brokers ", bootstrap_servers, ")"));
  }
  if (high == low) {
    if (low > 0) {
      return absl::DataLossError(absl::StrCat(
          "restoring ", where, ": the partition is empty but starts at offset ",
          low,
          ", so every commit was deleted by retention; the changelog topic "
          "must be compacted (cleanup.policy=compact)"));
    }
    // No committed state exists: what is local is a previous owner's.
    TXFLAG_RETURN_IF_ERROR(ClearLocal());
    last_seq = 0;
    return absl::OkStatus();
  }

  // 3. Fast path: the last message is the marker of the local seq.
  if (local_seq.has_value()) {
    bool current = false;
    TXFLAG_RETURN_IF_ERROR(Read(
        consumer.handle.get(), high - 1, high, &stats->messages_read,
        [&](const rd_kafka_message_t& m) {
          absl::StatusOr<ChangelogMessage> message = Parse(m);
          // An unreadable message is reported by the full restore.
          current =
              message.ok() && message->marker && message->seq == *local_seq;
          return absl::OkStatus();
        }));
    if (current) {
      stats->fast_path = true;
      last_seq = *local_seq;
      return absl::OkStatus();
    }
  }

  // 4. Full restore.
  if (low > 0) {
    return absl::DataLossError(absl::StrCat(
        "restoring ", where, ": the partition starts at offset ", low,
        ", so older commits were deleted and the state cannot be rebuilt; the "
        "changelog topic must be compacted (cleanup.policy=compact), and the "
        "librdkafka mock cluster keeps only about 5 MiB per partition"));
  }
  return FullRestore(consumer.handle.get(), high, stats);
}

absl::Status ChangelogStore::Impl::FullRestore(rd_kafka_t* consumer,
                                               int64_t high,
                                               RestoreStats* stats) {
  TXFLAG_RETURN_IF_ERROR(ClearLocal());
  const std::string& prefix = options.local_prefix;
  std::vector<PendingOp> pending;  // in log order
  engine::StateBatch batch;
  std::string local_key;
  int64_t max_seq = 0;
  TXFLAG_RETURN_IF_ERROR(Read(consumer, 0, high, &stats->messages_read,
                              [&](const rd_kafka_message_t& m) -> absl::Status {
                                TXFLAG_ASSIGN_OR_RETURN(
                                    ChangelogMessage message, Parse(m));
                                max_seq = std::max(max_seq, message.seq);
                                if (!message.marker) {
                                  PendingOp& op = pending.emplace_back();
                                  op.seq = message.seq;
                                  op.key.assign(message.key);
                                  if (message.value.has_value())
                                    op.value.emplace(*message.value);
                                  return absl::OkStatus();
                                }
                                // Apply, in log order, every op this marker
                                // completes (see the header for why seq <
                                // marker counts too).
                                size_t kept = 0;
                                for (PendingOp& op : pending) {
                                  if (op.seq > message.seq) {
                                    if (&pending[kept] != &op)
                                      pending[kept] = std::move(op);
                                    ++kept;
                                    continue;
                                  }
                                  local_key.assign(prefix).append(op.key);
                                  if (op.value.has_value()) {
                                    batch.Put(local_key, *op.value);
                                  } else {
                                    batch.Delete(local_key);
                                  }
                                }
                                pending.resize(kept);
                                if (batch.byte_size() >= kApplyBytes) {
                                  TXFLAG_RETURN_IF_ERROR(local->Write(batch));
                                  batch.Clear();
                                }
                                return absl::OkStatus();
                              }));
  batch.Put(meta_key, absl::StrCat(max_seq));
  TXFLAG_RETURN_IF_ERROR(local->Write(batch));
  last_seq = max_seq;

  // Repair an incomplete commit: rewrite each of its keys as restored.
  if (!pending.empty()) {
    stats->incomplete_ops_discarded = static_cast<int64_t>(pending.size());
    std::set<std::string> keys;
    for (const PendingOp& op : pending) keys.insert(op.key);
    engine::StateBatch repair;
    for (const std::string& key : keys) {
      local_key.assign(prefix).append(key);
      TXFLAG_ASSIGN_OR_RETURN(std::optional<std::string> value,
                              local->Get(local_key));
      if (value.has_value()) {
        repair.Put(local_key, *value);
      } else {
        repair.Delete(local_key);
      }
    }
    absl::Status status = Commit(repair, /*defer=*/false);
    if (!status.ok()) {
      return absl::Status(
          status.code(),
          absl::StrCat("restoring ", where, ": repairing the ", pending.size(),
                       " ops of an incomplete commit: ", status.message()));
    }
    stats->repair_ops = static_cast<int64_t>(repair.count());
  }

  TXFLAG_RETURN_IF_ERROR(
      local->Scan(prefix, [&](std::string_view key, std::string_view) {
        if (key != meta_key) ++stats->keys_restored;
        return true;
      }));
  return absl::OkStatus();
}

// The shared producer: one librdkafka client; delivery reports go to the
// store named by each message's opaque, if it still exists.
struct ChangelogProducer::Impl {
  std::function<void(const absl::Status&)> on_client_error;
  std::string topic;
  std::set<ChangelogStore::Impl*> stores;  // live stores using it
  internal::HandlePtr handle;              // last: destroyed first

  ~Impl() {
    if (handle == nullptr) return;
    stores.clear();  // reports for purged messages go nowhere
    IgnoreError(internal::KafkaStatus(
        rd_kafka_purge(handle.get(),
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT),
        "purge"));
    rd_kafka_poll(handle.get(), 0);
  }

  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                         void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    auto* store = static_cast<ChangelogStore::Impl*>(message->_private);
    if (self->stores.contains(store)) store->Delivered(rk, message);
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason,
                      void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    absl::Status status = internal::KafkaStatus(
        static_cast<rd_kafka_resp_err_t>(err),
        absl::StrCat("Kafka changelog producer: ", reason));
    if (status.ok()) return;
    if (self->on_client_error) {
      self->on_client_error(status);
    } else {
      std::fprintf(stderr, "warning: %s\n", status.ToString().c_str());
    }
  }
};

absl::StatusOr<std::unique_ptr<ChangelogStore>> ChangelogStore::Create(
    const ChangelogStoreOptions& options, engine::StateStore* local) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  if (local == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("changelog store for ", options.topic, "/",
                     options.partition, ": no local store given"));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->local = local;
  impl->bootstrap_servers = std::string(
      internal::FindProperty(options.properties, "bootstrap.servers"));
  if (impl->bootstrap_servers.empty()) {
    impl->bootstrap_servers = std::string(
        internal::FindProperty(options.properties, "metadata.broker.list"));
  }
  impl->where =
      absl::StrCat("changelog ", options.topic, "/", options.partition);
  impl->meta_key = absl::StrCat(options.local_prefix, Av(kChangelogMetaKey));
  if (options.shared_producer != nullptr) {
    ChangelogProducer::Impl* shared = options.shared_producer->impl_.get();
    if (shared->topic != options.topic) {
      return absl::InvalidArgumentError(absl::StrCat(
          "changelog store for ", options.topic, "/", options.partition,
          ": the shared producer is for topic '", shared->topic, "'"));
    }
    impl->shared = shared;
    impl->producer = shared->handle.get();
    shared->stores.insert(impl.get());
    return std::unique_ptr<ChangelogStore>(new ChangelogStore(std::move(impl)));
  }
  TXFLAG_ASSIGN_OR_RETURN(impl->owned_producer,
                          internal::NewIdempotentProducer(
                              options.properties, "txflag-changelog",
                              &Impl::OnDelivery, &Impl::OnError, impl.get()));
  impl->producer = impl->owned_producer.get();
  return std::unique_ptr<ChangelogStore>(new ChangelogStore(std::move(impl)));
}

ChangelogStore::ChangelogStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

ChangelogStore::~ChangelogStore() = default;

absl::Status ChangelogStore::Restore(RestoreStats* stats) {
  RestoreStats ignored;
  if (stats == nullptr) stats = &ignored;
  *stats = RestoreStats();
  const auto start = Clock::now();
  absl::Status status = impl_->Restore(stats);
  if (!status.ok()) impl_->last_seq = -1;  // Write() stays refused
  stats->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return status;
}

absl::StatusOr<std::optional<std::string>> ChangelogStore::Get(
    std::string_view key) {
  return impl_->local->Get(key);
}

absl::Status ChangelogStore::Scan(
    std::string_view prefix,
    absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn) {
  return impl_->local->Scan(prefix, fn);
}

absl::Status ChangelogStore::Write(const engine::StateBatch& batch) {
  if (impl_->last_seq < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("write to ", impl_->where,
                     " before a successful Restore(): call Restore() first"));
  }
  return impl_->Commit(batch, impl_->options.deferred);
}

absl::Status ChangelogStore::CompleteWrite() {
  Impl& impl = *impl_;
  if (!impl.deferred_batch.has_value()) return impl.broken;
  engine::StateBatch batch = std::move(*impl.deferred_batch);
  impl.deferred_batch.reset();
  const int64_t seq = impl.deferred_seq;
  absl::Status status = impl.broken;
  if (status.ok()) status = impl.first_error;
  if (status.ok() && rd_kafka_outq_len(impl.producer) > 0) {
    // The caller must flush the shared producer first; a message may still
    // be on its way.
    status = impl.Flush(absl::StrCat(seq));
  }
  if (!status.ok()) {
    impl.broken = absl::Status(
        status.code(),
        absl::StrCat(status.message(), "; commit ", seq,
                     " may be partly in the changelog and is not in the "
                     "local store: create a new ChangelogStore and "
                     "Restore()"));
    return impl.broken;
  }
  status = impl.local->Write(batch);
  if (!status.ok()) {
    impl.broken = absl::Status(
        status.code(),
        absl::StrCat(
            "writing commit ", seq, " of ", impl.where,
            " to the local store (the changelog has it): ", status.message(),
            "; create a new ChangelogStore and Restore()"));
    return impl.broken;
  }
  return absl::OkStatus();
}

ChangelogStore::Impl::~Impl() {
  if (shared != nullptr) {
    shared->stores.erase(this);
    return;
  }
  if (owned_producer == nullptr) return;
  // Fail what is left so its delivery reports run now, not during
  // rd_kafka_destroy().
  IgnoreError(internal::KafkaStatus(
      rd_kafka_purge(owned_producer.get(),
                     RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT),
      "purge"));  // only fails for a consumer handle
  rd_kafka_poll(owned_producer.get(), 0);
}

absl::StatusOr<std::unique_ptr<ChangelogProducer>> ChangelogProducer::Create(
    const KafkaProperties& properties, const std::string& topic,
    std::function<void(const absl::Status&)> on_client_error) {
  TXFLAG_RETURN_IF_ERROR(
      internal::ValidateProducerConfig(properties, topic, "changelog store"));
  auto impl = std::make_unique<Impl>();
  impl->topic = topic;
  impl->on_client_error = std::move(on_client_error);
  TXFLAG_ASSIGN_OR_RETURN(impl->handle,
                          internal::NewIdempotentProducer(
                              properties, "txflag-changelog", &Impl::OnDelivery,
                              &Impl::OnError, impl.get()));
  return std::unique_ptr<ChangelogProducer>(
      new ChangelogProducer(std::move(impl)));
}

ChangelogProducer::ChangelogProducer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

ChangelogProducer::~ChangelogProducer() = default;

absl::Status ChangelogProducer::Flush(int64_t timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(
                                           std::max<int64_t>(timeout_ms, 0));
  while (rd_kafka_flush(impl_->handle.get(), 100) !=
         RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (timeout_ms >= 0 && Clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "changelog ", impl_->topic, ": ",
          rd_kafka_outq_len(impl_->handle.get()),
          " messages still unacknowledged after ", timeout_ms, " ms"));
    }
  }
  return absl::OkStatus();
}

int64_t ChangelogStore::last_seq() const { return impl_->last_seq; }

}  // namespace txflag::connectors::kafka
