// File: connectors/rocksdb_store.h
//
// engine::StateStore on RocksDB: the engine's account state and checkpoints
// in one directory (--state-dir). Every StateBatch is one rocksdb::WriteBatch,
// so a source checkpoint, the rejects checkpoint and the state they produced
// commit together or not at all.
//
//   TXFLAG_ASSIGN_OR_RETURN(auto store, RocksDbStateStore::Open("state"));
//   engine::StateBatch batch;
//   batch.Put("acct/DK123", value);
//   TXFLAG_RETURN_IF_ERROR(store->Write(batch));
//
// Errors are translated at this edge: corruption -> DataLoss; the directory
// locked by another process -> FailedPrecondition; other I/O -> Unavailable.
// Thread-compatible (RocksDB itself is thread-safe; the engine uses one
// writer).
#ifndef TXFLAG_CONNECTORS_ROCKSDB_STORE_H_
#define TXFLAG_CONNECTORS_ROCKSDB_STORE_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/state_store.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace txflag::connectors {

struct RocksDbStoreOptions {
  // fsync the write-ahead log on every Write(), so a commit survives a power
  // loss, not only a process crash. Default false.
  bool sync = false;
  // Memtable size in bytes. Default 64 MiB.
  size_t write_buffer_bytes = 64 << 20;
  // Block cache size in bytes. Default 128 MiB.
  size_t block_cache_bytes = 128 << 20;
  // Bloom filter bits per key (0: none). Default 10 (about 1% false
  // positives).
  int bloom_bits_per_key = 10;

  // InvalidArgument for a zero write buffer or negative bloom bits.
  absl::Status Validate() const;
};

class RocksDbStateStore : public engine::StateStore {
 public:
  // Opens (creating if missing) the store in directory `dir`. Compression:
  // LZ4 when the RocksDB build has it, else Snappy, else none. Errors:
  // FailedPrecondition "state dir <dir> is in use by another txflag process"
  // when another process holds it; DataLoss when it is corrupt; Unavailable
  // for other I/O failures; InvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<RocksDbStateStore>> Open(
      const std::string& dir, RocksDbStoreOptions options = {});

  // Closes the database.
  ~RocksDbStateStore() override;

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  absl::Status Write(const engine::StateBatch& batch) override;
  absl::Status Scan(
      std::string_view prefix,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn)
      override;

  const std::string& dir() const { return dir_; }

  // RocksDB's estimate of the live data plus the memtables, in bytes (0 when
  // it has none): for a state-size gauge, not an exact count.
  uint64_t ApproximateBytes() const;

 private:
  RocksDbStateStore(std::string dir, std::unique_ptr<rocksdb::DB> db,
                    RocksDbStoreOptions options);

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  RocksDbStoreOptions options_;
};

// Deletes the store in `dir` (for --fresh). OK when there is none.
// FailedPrecondition when another process has it open; Unavailable on I/O
// errors.
absl::Status DestroyState(const std::string& dir);

}  // namespace txflag::connectors

#endif  // TXFLAG_CONNECTORS_ROCKSDB_STORE_H_
