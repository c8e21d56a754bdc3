// File: engine/state_store.h
//
// The key-value store behind the engine's state. connectors/rocksdb_store.h
// implements it with RocksDB; engine/memory.h has an in-memory one for tests.
#ifndef TXFLAG_ENGINE_STATE_STORE_H_
#define TXFLAG_ENGINE_STATE_STORE_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txflag::engine {

// Puts and deletes applied atomically by StateStore::Write.
class StateBatch {
 public:
  struct Op {
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  void Put(std::string key, std::string value) {
    ops_.push_back({std::move(key), std::move(value)});
  }
  void Delete(std::string key) {
    ops_.push_back({std::move(key), std::nullopt});
  }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  void Clear() { ops_.clear(); }

 private:
  std::vector<Op> ops_;
};

// Thread-compatible: one writer; implementations say if they allow more.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // The value of `key`, nullopt if absent. DataLoss / Internal on failure.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) = 0;

  // Applies every op of `batch` atomically: after a crash either all or none
  // are visible. Later ops on the same key win.
  virtual absl::Status Write(const StateBatch& batch) = 0;

  // Calls fn(key, value) for each key starting with `prefix`, in key order,
  // until fn returns false.
  virtual absl::Status Scan(
      std::string_view prefix,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)>
          fn) = 0;
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_STATE_STORE_H_
