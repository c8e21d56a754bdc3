// File: engine/state_store.h
//
// The key-value store behind the engine's state. connectors/rocksdb_store.h
// implements it with RocksDB; engine/memory.h has an in-memory one for tests.
#ifndef TXFLAG_ENGINE_STATE_STORE_H_
#define TXFLAG_ENGINE_STATE_STORE_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txflag::engine {

// Puts and deletes applied atomically by StateStore::Write. Kept in one
// contiguous buffer (like rocksdb::WriteBatch), so building a batch of
// thousands of small values allocates almost nothing.
class StateBatch {
 public:
  void Put(std::string_view key, std::string_view value) {
    Append(kPut, key);
    AppendBytes(value);
    ++count_;
  }
  void Delete(std::string_view key) {
    Append(kDelete, key);
    ++count_;
  }
  // Calls fn(key, value) for each op in order; value is nullopt for a delete.
  template <typename Fn>
  void ForEach(Fn fn) const {
    size_t pos = 0;
    while (pos < rep_.size()) {
      const char type = rep_[pos++];
      std::string_view key = ReadBytes(&pos);
      if (type == kPut) {
        std::string_view value = ReadBytes(&pos);
        fn(key, std::optional<std::string_view>(value));
      } else {
        fn(key, std::optional<std::string_view>());
      }
    }
  }
  size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Bytes of keys and values, with a few bytes of framing per op.
  size_t byte_size() const { return rep_.size(); }
  void Clear() {
    rep_.clear();
    count_ = 0;
  }

 private:
  static constexpr char kPut = 'P';
  static constexpr char kDelete = 'D';
  void Append(char type, std::string_view key) {
    rep_.push_back(type);
    AppendBytes(key);
  }
  void AppendBytes(std::string_view bytes) {
    const uint32_t n = static_cast<uint32_t>(bytes.size());
    rep_.append(reinterpret_cast<const char*>(&n), sizeof(n));
    rep_.append(bytes.data(), bytes.size());
  }
  std::string_view ReadBytes(size_t* pos) const {
    uint32_t n;
    std::memcpy(&n, rep_.data() + *pos, sizeof(n));
    *pos += sizeof(n);
    std::string_view bytes(rep_.data() + *pos, n);
    *pos += n;
    return bytes;
  }

  std::string rep_;
  size_t count_ = 0;
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
