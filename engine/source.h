// File: engine/source.h
//
// The seams between the engine and the outside world. The engine defines
// them; connectors/ implements them (files, RocksDB, Kafka), and tests use
// the in-memory ones in engine/memory.h. Nothing here includes a connector
// library.
//
// Checkpoints: a source, the rejects sink and the state are committed together
// (one atomic StateStore::Write), so after a crash the engine restores all
// three to the same instant and resumes as if never stopped.
#ifndef TXFLAG_ENGINE_SOURCE_H_
#define TXFLAG_ENGINE_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/payment.pb.h"
#include "proto/payment_view.h"

namespace txflag::engine {

// Which sides of a payment a record asks the engine to process. A file or an
// input topic gives whole payments (kBoth: the debtor's outgoing leg and the
// creditor's incoming leg). After Kafka repartitioning (connectors/kafka/
// stream_runner.h) each message carries one leg, keyed by its account, so
// each account's legs meet in the one task that owns the account.
enum class Legs : uint8_t { kBoth = 0, kDebit = 1, kCredit = 2 };

// One record read from a source: a payment, or a record that could not be
// read as one (kept, with where and why, for the rejects file).
struct SourceRecord {
  enum class Kind { kPayment, kReject };
  Kind kind = Kind::kPayment;
  // kPayment: the payment, checked by the reader (connectors/internal/
  // payment_checks.h: timestamp, positive amount in a known currency,
  // channel, accounts, mcc). The engine still rejects what depends on the
  // rule pack: a currency without an exchange rate.
  txflag::v1::Payment payment;
  // kPayment: when set, the payment is this view and `payment` is not read.
  // Its strings belong to the source (a Kafka message's bytes, say) and must
  // stay valid until the Processor::Process call that takes the record
  // returns: a source with the fields in its own buffer so skips building a
  // message. Processor::Process does not keep the view.
  std::optional<txflag::v1::PaymentView> view;
  // kPayment: the payment's fields, from `view` when set, else `payment`.
  txflag::v1::PaymentView fields() const {
    return view.has_value() ? *view : txflag::v1::PaymentView(payment);
  }
  // The source's own label for the payment, when it has one (AMLworld's
  // "Is Laundering").
  std::optional<bool> label;
  // kPayment: the legs to process.
  Legs legs = Legs::kBoth;
  // The sub-stream the record came from, 0..streams-1, for a processor that
  // merges several independently progressing streams (see
  // Processor::Options::streams); -1 for a single ordered source.
  int32_t stream = -1;
  // The record's position within its stream (a Kafka offset), or -1. Kept
  // with a buffered payment (Processor::OldestBufferedPosition).
  int64_t position = -1;
  // Where the record is: "data/payments.csv:123", "payments/3@1234".
  std::string location;
  // kReject: what is wrong, for a person ("amount '-5' is negative").
  std::string reason;
  // kReject: the record as read (the CSV line without its line break).
  std::string raw;
};

// A stream of payments: a file, a Kafka partition, a vector in a test.
// Not thread-safe: one reader.
class PaymentSource {
 public:
  virtual ~PaymentSource() = default;

  // Reads the next record into *record (overwriting it). Returns true when a
  // record was read, false at the end of the input. A malformed record is not
  // an error: it is returned as Kind::kReject. An error status means the
  // source itself failed (I/O error, broker gone for good).
  virtual absl::StatusOr<bool> Next(SourceRecord* record) = 0;

  // Opaque position just after the last record Next() returned. Stored with
  // the state that record produced.
  virtual std::string Checkpoint() const = 0;

  // Repositions the source to `checkpoint` (from Checkpoint(), possibly of an
  // earlier process). Called before the first Next(). Returns
  // FailedPrecondition when the checkpoint belongs to another input (another
  // file, or the file changed), InvalidArgument when it is unreadable.
  virtual absl::Status Restore(std::string_view checkpoint) = 0;

  // Fraction of the input consumed, 0..1, or a negative value when unknown.
  virtual double Progress() const { return -1.0; }
};

// Where rejected records go (rejects.csv, a dead-letter topic).
class RejectSink {
 public:
  virtual ~RejectSink() = default;
  // Records one rejected record. `location`, `reason` and `raw` as in
  // SourceRecord.
  virtual absl::Status Write(std::string_view location, std::string_view reason,
                             std::string_view raw) = 0;
  // Makes every Write so far durable and returns a checkpoint of the sink's
  // position (e.g. the file length).
  virtual absl::StatusOr<std::string> Flush() = 0;
  // Rewinds the sink to `checkpoint` (dropping anything written after it, so
  // a resumed run does not repeat rejects). An empty checkpoint means "start
  // from scratch".
  virtual absl::Status Restore(std::string_view checkpoint) = 0;
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_SOURCE_H_
