#include "connectors/rocksdb_store.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::connectors {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::string TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = absl::StrCat(::testing::TempDir(), "/txflag_state_",
                                 info->test_suite_name(), "_", info->name());
  EXPECT_TRUE(DestroyState(dir).ok());
  return dir;
}

std::vector<std::pair<std::string, std::string>> ScanAll(
    RocksDbStateStore& store, std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  absl::Status status =
      store.Scan(prefix, [&](std::string_view k, std::string_view v) {
        out.emplace_back(std::string(k), std::string(v));
        return true;
      });
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

TEST(RocksDbStateStore, PutGetDeleteScan) {
  auto store = RocksDbStateStore::Open(TempDir());
  ASSERT_TRUE(store.ok()) << store.status();
  RocksDbStateStore& s = **store;
  absl::StatusOr<std::optional<std::string>> v = s.Get("acct/1");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());

  engine::StateBatch batch;
  batch.Put("acct/1", "one");
  batch.Put("acct/2", "two");
  batch.Put("acct/3", "three");
  batch.Put("acct0", "not in the prefix");
  batch.Put("acc", "short");
  batch.Put(std::string("\xff\xff", 2), "ff");
  batch.Put(std::string("\xff\xff\x01", 3), "ff01");
  ASSERT_TRUE(s.Write(batch).ok());
  v = s.Get("acct/2");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), "two");

  EXPECT_THAT(ScanAll(s, "acct/"),
              ElementsAre(Pair("acct/1", "one"), Pair("acct/2", "two"),
                          Pair("acct/3", "three")));
  EXPECT_THAT(ScanAll(s, std::string("\xff\xff", 2)),
              ElementsAre(Pair(std::string("\xff\xff", 2), "ff"),
                          Pair(std::string("\xff\xff\x01", 3), "ff01")));
  EXPECT_EQ(ScanAll(s, "").size(), 7u);
  EXPECT_TRUE(ScanAll(s, "zzz").empty());

  int calls = 0;
  ASSERT_TRUE(s.Scan("acct/", [&](std::string_view, std::string_view) {
                 ++calls;
                 return false;  // stop after the first
               }).ok());
  EXPECT_EQ(calls, 1);

  engine::StateBatch del;
  del.Delete("acct/2");
  del.Put("acct/1", "uno");  // later ops on a key win
  del.Put("acct/1", "ein");
  ASSERT_TRUE(s.Write(del).ok());
  v = s.Get("acct/2");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
  EXPECT_THAT(ScanAll(s, "acct/"),
              ElementsAre(Pair("acct/1", "ein"), Pair("acct/3", "three")));
}

TEST(RocksDbStateStore, BatchIsVisibleAfterReopen) {
  std::string dir = TempDir();
  {
    auto store = RocksDbStateStore::Open(dir, {.sync = true});
    ASSERT_TRUE(store.ok()) << store.status();
    engine::StateBatch batch;
    for (int i = 0; i < 100; ++i) {
      batch.Put(absl::StrCat("k/", i), absl::StrCat("v", i));
    }
    batch.Put("checkpoint/source", "offset=42");
    ASSERT_TRUE((*store)->Write(batch).ok());
  }
  auto store = RocksDbStateStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(ScanAll(**store, "k/").size(), 100u);
  auto v = (*store)->Get("checkpoint/source");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), "offset=42");
}

TEST(RocksDbStateStore, SecondOpenOfTheSameDirIsFailedPrecondition) {
  std::string dir = TempDir();
  auto first = RocksDbStateStore::Open(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = RocksDbStateStore::Open(dir);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("state dir ", dir,
                                     " is in use by another txflag process")));
  // --fresh while another process runs is refused too.
  EXPECT_EQ(DestroyState(dir).code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE(RocksDbStateStore::Open(dir).ok());
}

TEST(RocksDbStateStore, DestroyStateEmptiesIt) {
  std::string dir = TempDir();
  {
    auto store = RocksDbStateStore::Open(dir);
    ASSERT_TRUE(store.ok());
    engine::StateBatch batch;
    batch.Put("a", "b");
    ASSERT_TRUE((*store)->Write(batch).ok());
  }
  ASSERT_TRUE(DestroyState(dir).ok());
  ASSERT_TRUE(DestroyState(dir).ok());  // nothing there: fine
  auto store = RocksDbStateStore::Open(dir);
  ASSERT_TRUE(store.ok());
  auto v = (*store)->Get("a");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
}

TEST(RocksDbStateStore, UnwritableDirIsUnavailable) {
  auto store = RocksDbStateStore::Open("/proc/txflag-cannot-create");
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable)
      << store.status();
}

TEST(RocksDbStateStore, BadOptionsAreInvalidArgument) {
  EXPECT_EQ(RocksDbStateStore::Open(TempDir(), {.write_buffer_bytes = 1})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace txflag::connectors
