// File: engine/memory.h
//
// In-memory implementations of the engine's seams, for tests and for the
// in-process test driver: a StateStore over a std::map, a PaymentSource over
// a vector of records, a RejectSink and an AlertSink that keep what they get.
// Checkpoints behave like the real ones (a restored source resumes after the
// checkpointed record; a restored reject sink drops later rejects).
#ifndef TXFLAG_ENGINE_MEMORY_H_
#define TXFLAG_ENGINE_MEMORY_H_

#include <map>
#include <string>
#include <vector>

#include "engine/alert_sink.h"
#include "engine/source.h"
#include "engine/state_store.h"

namespace txflag::engine {

class MemoryStateStore : public StateStore {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  absl::Status Write(const StateBatch& batch) override;
  absl::Status Scan(
      std::string_view prefix,
      absl::FunctionRef<bool(std::string_view, std::string_view)> fn) override;
  const std::map<std::string, std::string, std::less<>>& data() const {
    return data_;
  }
  int writes() const { return writes_; }

 private:
  std::map<std::string, std::string, std::less<>> data_;
  int writes_ = 0;
};

// Returns the records it was given, in order. Checkpoint = records consumed.
class VectorSource : public PaymentSource {
 public:
  explicit VectorSource(std::vector<SourceRecord> records)
      : records_(std::move(records)) {}
  absl::StatusOr<bool> Next(SourceRecord* record) override;
  std::string Checkpoint() const override;
  absl::Status Restore(std::string_view checkpoint) override;
  double Progress() const override;

 private:
  std::vector<SourceRecord> records_;
  size_t next_ = 0;
};

class MemoryRejectSink : public RejectSink {
 public:
  struct Row {
    std::string location, reason, raw;
  };
  absl::Status Write(std::string_view location, std::string_view reason,
                     std::string_view raw) override;
  absl::StatusOr<std::string> Flush() override;
  absl::Status Restore(std::string_view checkpoint) override;
  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::vector<Row> rows_;
};

class CollectingAlertSink : public AlertSink {
 public:
  absl::Status Emit(const txflag::v1::Alert& alert) override {
    emitted_.push_back(alert);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    ++flushes_;
    return absl::OkStatus();
  }
  const std::vector<txflag::v1::Alert>& emitted() const { return emitted_; }
  int flushes() const { return flushes_; }

 private:
  std::vector<txflag::v1::Alert> emitted_;
  int flushes_ = 0;
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_MEMORY_H_
