#include "connectors/rocksdb_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace txflag::connectors {
namespace {

rocksdb::Slice Rs(std::string_view s) { return {s.data(), s.size()}; }
std::string_view Sv(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// rocksdb::Status -> absl::Status, with `what` and the directory for context.
absl::Status Translate(const rocksdb::Status& s, std::string_view what,
                       const std::string& dir) {
  if (s.ok()) return absl::OkStatus();
  std::string message =
      absl::StrCat(Av(what), " state dir ", dir, ": ", s.ToString());
  if (s.IsCorruption()) {
    return absl::DataLossError(
        absl::StrCat(message,
                     " (the state is corrupt: restore a backup or rerun with "
                     "--fresh)"));
  }
  if (s.IsIOError()) {
    std::string lower = absl::AsciiStrToLower(s.ToString());
    if (absl::StrContains(lower, "lock")) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state dir ", dir, " is in use by another txflag process (",
          s.ToString(), "): stop it or use another --state-dir"));
    }
    return absl::UnavailableError(message);
  }
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return absl::FailedPreconditionError(message);
  }
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsIncomplete()) {
    return absl::UnavailableError(message);
  }
  if (s.IsNotFound()) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

rocksdb::Options MakeOptions(const RocksDbStoreOptions& o) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = o.write_buffer_bytes;
  // The engine writes state in batches and reads it back only once, with a
  // scan, when it opens: a vector memtable takes inserts in O(1) (it sorts
  // when flushed) where the default skip list spent ~8% of a back-test
  // keeping itself ordered.
  options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  options.allow_concurrent_memtable_write = false;  // one writer anyway
  options.IncreaseParallelism(2);
  std::vector<rocksdb::CompressionType> supported =
      rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  if (has(rocksdb::kLZ4Compression)) {
    options.compression = rocksdb::kLZ4Compression;
  } else if (has(rocksdb::kSnappyCompression)) {
    options.compression = rocksdb::kSnappyCompression;
  } else {
    options.compression = rocksdb::kNoCompression;
  }
  rocksdb::BlockBasedTableOptions table;
  if (o.bloom_bits_per_key > 0) {
    table.filter_policy.reset(
        rocksdb::NewBloomFilterPolicy(o.bloom_bits_per_key));
  }
  if (o.block_cache_bytes > 0) {
    table.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  }
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// The smallest key greater than every key starting with `prefix`, or "" when
// there is none (prefix empty or all 0xff).
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
    end.pop_back();
  }
  if (!end.empty()) end.back() = static_cast<char>(end.back() + 1);
  return end;
}

}  // namespace

absl::Status RocksDbStoreOptions::Validate() const {
  if (write_buffer_bytes < (1 << 16)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RocksDbStoreOptions.write_buffer_bytes must be at least 64 KiB, got ",
        write_buffer_bytes));
  }
  if (bloom_bits_per_key < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RocksDbStoreOptions.bloom_bits_per_key must be >= 0, got ",
        bloom_bits_per_key));
  }
  return absl::OkStatus();
}

RocksDbStateStore::RocksDbStateStore(std::string dir,
                                     std::unique_ptr<rocksdb::DB> db,
                                     RocksDbStoreOptions options)
    : dir_(std::move(dir)), db_(std::move(db)), options_(options) {}

RocksDbStateStore::~RocksDbStateStore() {
  if (db_ != nullptr) {
    // Close() flushes nothing we need (the WAL has every write); its status
    // only matters to callers that could act on it, and a destructor cannot.
    db_->Close().PermitUncheckedError();
  }
}

absl::StatusOr<std::unique_ptr<RocksDbStateStore>> RocksDbStateStore::Open(
    const std::string& dir, RocksDbStoreOptions options) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(MakeOptions(options), dir, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  TXFLAG_RETURN_IF_ERROR(Translate(s, "opening", dir));
  return std::unique_ptr<RocksDbStateStore>(
      new RocksDbStateStore(dir, std::move(db), options));
}

absl::StatusOr<std::optional<std::string>> RocksDbStateStore::Get(
    std::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Rs(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  TXFLAG_RETURN_IF_ERROR(Translate(s, "reading", dir_));
  return std::optional<std::string>(std::move(value));
}

absl::Status RocksDbStateStore::Write(const engine::StateBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  rocksdb::WriteBatch wb(batch.byte_size() + 64 * batch.count());
  rocksdb::Status s;
  batch.ForEach([&](std::string_view key,
                    std::optional<std::string_view> value) {
    if (!s.ok()) return;
    s = value.has_value() ? wb.Put(Rs(key), Rs(*value)) : wb.Delete(Rs(key));
  });
  TXFLAG_RETURN_IF_ERROR(Translate(s, "building a batch for", dir_));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return Translate(db_->Write(wo, &wb), "writing", dir_);
}

absl::Status RocksDbStateStore::Scan(
    std::string_view prefix,
    absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn) {
  rocksdb::ReadOptions ro;
  const std::string end = PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(Rs(prefix)); it->Valid(); it->Next()) {
    if (!fn(Sv(it->key()), Sv(it->value()))) break;
  }
  return Translate(it->status(), "scanning", dir_);
}

absl::Status DestroyState(const std::string& dir) {
  rocksdb::Options options;
  return Translate(rocksdb::DestroyDB(dir, options), "destroying", dir);
}

uint64_t RocksDbStateStore::ApproximateBytes() const {
  uint64_t live = 0, memtables = 0;
  if (!db_->GetIntProperty("rocksdb.estimate-live-data-size", &live)) live = 0;
  if (!db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &memtables)) {
    memtables = 0;
  }
  return live + memtables;
}

}  // namespace txflag::connectors
