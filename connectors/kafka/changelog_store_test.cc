// ChangelogStore against the in-process mock cluster, with
// engine::MemoryStateStore as the local store: what goes into the changelog,
// that a fresh store rebuilds exactly the same state from it, the fast path,
// incomplete commits (discarded and repaired), stale local keys, and failures.
#include "connectors/kafka/changelog_store.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "connectors/kafka/internal/rdkafka_handles.h"
#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/test_consumer.h"
#include "engine/memory.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::connectors::kafka {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using Clock = std::chrono::steady_clock;
using KeyValues = std::map<std::string, std::string>;

constexpr char kTopic[] = "changelog";
constexpr int kPartitions = 4;
constexpr int32_t kPartition = 2;
constexpr char kPrefix[] = "p2/";
constexpr char kMeta[] = "p2/meta/changelog";

std::unique_ptr<MockCluster> StartCluster() {
  auto cluster = MockCluster::Start();
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return nullptr;
  absl::Status created = (*cluster)->CreateTopic(kTopic, kPartitions, 1);
  EXPECT_TRUE(created.ok()) << created;
  return std::move(*cluster);
}

ChangelogStoreOptions Options(const MockCluster& cluster) {
  ChangelogStoreOptions o;
  o.properties = {{"bootstrap.servers", cluster.bootstrap_servers()}};
  o.topic = kTopic;
  o.partition = kPartition;
  o.local_prefix = kPrefix;
  o.flush_timeout_ms = 20000;
  return o;
}

std::unique_ptr<ChangelogStore> NewStore(const ChangelogStoreOptions& options,
                                         engine::StateStore* local) {
  auto store = ChangelogStore::Create(options, local);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  return std::move(*store);
}

// Creates a store over `local` and restores it.
std::unique_ptr<ChangelogStore> Restored(
    const MockCluster& cluster, engine::StateStore* local,
    ChangelogStore::RestoreStats* stats = nullptr) {
  std::unique_ptr<ChangelogStore> store = NewStore(Options(cluster), local);
  if (store == nullptr) return nullptr;
  absl::Status restored = store->Restore(stats);
  EXPECT_TRUE(restored.ok()) << restored;
  if (!restored.ok()) return nullptr;
  return store;
}

// One op of a test batch: a put, or a delete when value is nullopt.
struct Op {
  std::string key;
  std::optional<std::string> value;
};

engine::StateBatch Batch(const std::vector<Op>& ops) {
  engine::StateBatch batch;
  for (const Op& op : ops) {
    if (op.value.has_value()) {
      batch.Put(op.key, *op.value);
    } else {
      batch.Delete(op.key);
    }
  }
  return batch;
}

// The keys of `store` under `prefix`, with their values.
KeyValues Dump(const engine::MemoryStateStore& store,
               const std::string& prefix = kPrefix) {
  KeyValues out;
  for (const auto& [key, value] : store.data()) {
    if (key.starts_with(prefix)) out[key] = value;
  }
  return out;
}

// The same without the changelog store's meta key.
KeyValues StateOf(const engine::MemoryStateStore& store) {
  KeyValues out = Dump(store);
  out.erase(kMeta);
  return out;
}

// A message as it is in the changelog.
struct Message {
  std::string key;
  std::optional<std::string> value;  // nullopt: NULL value (tombstone)
  std::vector<std::pair<std::string, std::string>> headers;
};

// Low and high watermark of `partition` of kTopic.
std::pair<int64_t, int64_t> Watermarks(const MockCluster& cluster,
                                       int32_t partition) {
  auto conf = internal::NewConf(
      {{"bootstrap.servers", cluster.bootstrap_servers()}, {"log_level", "2"}});
  EXPECT_TRUE(conf.ok()) << conf.status();
  if (!conf.ok()) return {-1, -1};
  auto rk = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  EXPECT_TRUE(rk.ok()) << rk.status();
  if (!rk.ok()) return {-1, -1};
  int64_t low = -1, high = -1;
  EXPECT_EQ(rd_kafka_query_watermark_offsets(rk->get(), kTopic, partition, &low,
                                             &high, 10000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  return {low, high};
}

// Every message of `partition` of kTopic, in order.
std::vector<Message> ReadPartition(const MockCluster& cluster,
                                   int32_t partition) {
  std::vector<Message> out;
  const int64_t high = Watermarks(cluster, partition).second;
  auto read =
      testing::ReadPartition(cluster.bootstrap_servers(), kTopic, partition,
                             static_cast<size_t>(high), 15000);
  EXPECT_TRUE(read.ok()) << read.status();
  if (!read.ok()) return out;
  for (testing::ConsumedMessage& m : *read) {
    Message message;
    message.key = std::move(m.key);
    if (!m.null_value) message.value = std::move(m.value);
    message.headers = std::move(m.headers);
    out.push_back(std::move(message));
  }
  return out;
}

// Produces changelog messages directly, as a store that dies in the middle
// of a commit leaves them: (key without prefix, value or tombstone, seq).
struct RawMessage {
  std::string key;
  std::optional<std::string> value;
  std::string seq;
};

void ProduceRaw(const MockCluster& cluster,
                const std::vector<RawMessage>& messages) {
  auto conf =
      internal::NewConf({{"bootstrap.servers", cluster.bootstrap_servers()},
                         {"enable.idempotence", "true"},
                         {"log_level", "2"}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  auto rk = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  ASSERT_TRUE(rk.ok()) << rk.status();
  for (const RawMessage& m : messages) {
    ASSERT_EQ(rd_kafka_producev(
                  rk->get(), RD_KAFKA_V_TOPIC(kTopic),
                  RD_KAFKA_V_PARTITION(kPartition),
                  RD_KAFKA_V_KEY(const_cast<char*>(m.key.data()), m.key.size()),
                  RD_KAFKA_V_VALUE(m.value.has_value()
                                       ? const_cast<char*>(m.value->data())
                                       : nullptr,
                                   m.value.has_value() ? m.value->size() : 0),
                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                  RD_KAFKA_V_HEADER(kChangelogCommitHeader, m.seq.data(),
                                    static_cast<ssize_t>(m.seq.size())),
                  RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk->get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

TEST(ChangelogStore, ProducesOpsWithoutPrefixThenAMarkerToItsPartitionOnly) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local;
  std::unique_ptr<ChangelogStore> store = Restored(*cluster, &local);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->last_seq(), 0);
  ASSERT_TRUE(store->Write(Batch({{"p2/a", "1"}, {"p2/b", "2"}})).ok());
  ASSERT_TRUE(store->Write(Batch({{"p2/a", std::nullopt}})).ok());
  EXPECT_EQ(store->last_seq(), 2);

  const std::pair<std::string, std::string> seq1(kChangelogCommitHeader, "1");
  const std::pair<std::string, std::string> seq2(kChangelogCommitHeader, "2");
  std::vector<Message> read = ReadPartition(*cluster, kPartition);
  ASSERT_EQ(read.size(), 5u);
  EXPECT_EQ(read[0].key, "a");
  EXPECT_EQ(read[0].value, "1");
  EXPECT_THAT(read[0].headers, ElementsAre(seq1));
  EXPECT_EQ(read[1].key, "b");
  EXPECT_EQ(read[1].value, "2");
  EXPECT_THAT(read[1].headers, ElementsAre(seq1));
  EXPECT_EQ(read[2].key, std::string("\x01"
                                     "commit"));
  EXPECT_EQ(read[2].value, "1");
  EXPECT_THAT(read[2].headers, ElementsAre(seq1));
  EXPECT_EQ(read[3].key, "a");
  EXPECT_EQ(read[3].value, std::nullopt);  // a tombstone, not ""
  EXPECT_THAT(read[3].headers, ElementsAre(seq2));
  EXPECT_EQ(read[4].key, std::string(kChangelogMarkerKey));
  EXPECT_EQ(read[4].value, "2");
  // Nothing on the other partitions; the meta key stays local.
  for (int32_t p : {0, 1, 3}) {
    EXPECT_EQ(Watermarks(*cluster, p).second, 0) << "partition " << p;
  }
  EXPECT_EQ(Dump(local), (KeyValues{{"p2/b", "2"}, {kMeta, "2"}}));
}

TEST(ChangelogStore, FreshStoreRestoresExactlyTheSameState) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local_a;
  std::unique_ptr<ChangelogStore> a = Restored(*cluster, &local_a);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(
      a->Write(Batch({{"p2/k1", "v1"}, {"p2/k2", "v2"}, {"p2/k3", "v3"}}))
          .ok());
  ASSERT_TRUE(
      a->Write(
           Batch({{"p2/k1", "v1b"}, {"p2/k2", std::nullopt}, {"p2/k4", "v4"}}))
          .ok());
  ASSERT_TRUE(
      a->Write(
           Batch({{"p2/k4", std::nullopt}, {"p2/k5", "v5"}, {"p2/k1", "v1c"}}))
          .ok());
  const KeyValues expected = {
      {"p2/k1", "v1c"}, {"p2/k3", "v3"}, {"p2/k5", "v5"}, {kMeta, "3"}};
  ASSERT_EQ(Dump(local_a), expected);

  // B's local store holds other partitions' keys, which it must not touch.
  engine::MemoryStateStore local_b;
  ASSERT_TRUE(
      local_b
          .Write(Batch({{"p1/x", "other"}, {"p3/k1", "other"}, {"p20/k", "o"}}))
          .ok());
  ChangelogStore::RestoreStats stats;
  std::unique_ptr<ChangelogStore> b = Restored(*cluster, &local_b, &stats);
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(stats.fast_path);
  EXPECT_EQ(stats.messages_read, 4 + 4 + 4);
  EXPECT_EQ(stats.keys_restored, 3);
  EXPECT_EQ(stats.incomplete_ops_discarded, 0);
  EXPECT_EQ(stats.repair_ops, 0);
  EXPECT_EQ(Dump(local_b), Dump(local_a));
  EXPECT_EQ(Dump(local_b, "p1/"), (KeyValues{{"p1/x", "other"}}));
  EXPECT_EQ(Dump(local_b, "p3/"), (KeyValues{{"p3/k1", "other"}}));
  EXPECT_EQ(Dump(local_b, "p20/"), (KeyValues{{"p20/k", "o"}}));
  EXPECT_EQ(b->last_seq(), 3);
  auto got = b->Get("p2/k1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "v1c");

  // B carries on the numbering.
  a.reset();
  ASSERT_TRUE(b->Write(Batch({{"p2/k6", "v6"}})).ok());
  EXPECT_EQ(b->last_seq(), 4);
  EXPECT_EQ(Dump(local_b)[kMeta], "4");
}

TEST(ChangelogStore, FastPathWhenLocalIsCurrentFullRestoreAfterForeignCommit) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local_a;
  std::unique_ptr<ChangelogStore> a = Restored(*cluster, &local_a);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Write(Batch({{"p2/k1", "a1"}, {"p2/k2", "a2"}})).ok());
  ASSERT_TRUE(a->Write(Batch({{"p2/k2", "a2b"}})).ok());
  const KeyValues before = Dump(local_a);
  const int writes_before = local_a.writes();

  ChangelogStore::RestoreStats stats;
  ASSERT_TRUE(a->Restore(&stats).ok());
  EXPECT_TRUE(stats.fast_path);
  EXPECT_EQ(stats.messages_read, 1);
  EXPECT_EQ(local_a.writes(), writes_before);  // nothing written
  EXPECT_EQ(Dump(local_a), before);
  EXPECT_EQ(a->last_seq(), 2);

  // A restarted process over the same local store: also the fast path.
  {
    std::unique_ptr<ChangelogStore> again =
        Restored(*cluster, &local_a, &stats);
    ASSERT_NE(again, nullptr);
    EXPECT_TRUE(stats.fast_path);
    EXPECT_EQ(local_a.writes(), writes_before);
  }

  // C takes over, restores and commits; A's local state is then stale.
  engine::MemoryStateStore local_c;
  std::unique_ptr<ChangelogStore> c = Restored(*cluster, &local_c, &stats);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(stats.fast_path);
  ASSERT_TRUE(c->Write(Batch({{"p2/k1", "from C"}})).ok());
  EXPECT_EQ(c->last_seq(), 3);

  ASSERT_TRUE(a->Restore(&stats).ok());
  EXPECT_FALSE(stats.fast_path);
  EXPECT_EQ(stats.messages_read, 8);
  EXPECT_EQ(Dump(local_a),
            (KeyValues{{"p2/k1", "from C"}, {"p2/k2", "a2b"}, {kMeta, "3"}}));
  EXPECT_EQ(Dump(local_a), Dump(local_c));
  EXPECT_EQ(a->last_seq(), 3);
}

TEST(ChangelogStore, IncompleteCommitIsDiscardedAndRepaired) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local_a;
  std::unique_ptr<ChangelogStore> a = Restored(*cluster, &local_a);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Write(Batch({{"p2/k1", "a"}, {"p2/k2", "b"}})).ok());
  ASSERT_TRUE(a->Write(Batch({{"p2/k3", "c"}})).ok());
  const KeyValues committed = StateOf(local_a);
  a.reset();
  // A dies in the middle of commit 3: three of its ops reached the
  // changelog, the marker did not.
  ProduceRaw(*cluster, {{"k1", "half-written", "3"},
                        {"k9", "new key", "3"},
                        {"k3", std::nullopt, "3"}});
  ASSERT_EQ(Watermarks(*cluster, kPartition).second, 8);

  engine::MemoryStateStore local_b;
  ChangelogStore::RestoreStats stats;
  std::unique_ptr<ChangelogStore> b = Restored(*cluster, &local_b, &stats);
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(stats.fast_path);
  EXPECT_EQ(stats.messages_read, 8);
  EXPECT_EQ(stats.incomplete_ops_discarded, 3);
  EXPECT_EQ(stats.repair_ops, 3);  // k1, k3, k9
  EXPECT_EQ(stats.keys_restored, 3);
  EXPECT_EQ(StateOf(local_b), committed);
  // The repair is commit 4: seq = the highest seq seen (3) + 1.
  EXPECT_EQ(b->last_seq(), 4);
  EXPECT_EQ(Dump(local_b)[kMeta], "4");

  // The repair commit: each key of the discarded ops as restored (k9 was
  // never committed: a tombstone), then its marker.
  std::vector<Message> read = ReadPartition(*cluster, kPartition);
  ASSERT_EQ(read.size(), 12u);
  std::map<std::string, std::optional<std::string>> repair;
  for (size_t i = 8; i < 11; ++i) {
    EXPECT_THAT(read[i].headers,
                ElementsAre(Pair(kChangelogCommitHeader, "4")));
    repair[read[i].key] = read[i].value;
  }
  EXPECT_EQ(repair, (std::map<std::string, std::optional<std::string>>{
                        {"k1", "a"}, {"k3", "c"}, {"k9", std::nullopt}}));
  EXPECT_EQ(read[11].key, std::string(kChangelogMarkerKey));
  EXPECT_EQ(read[11].value, "4");

  // A later restorer takes the committed state, with nothing to repair.
  engine::MemoryStateStore local_d;
  std::unique_ptr<ChangelogStore> d = Restored(*cluster, &local_d, &stats);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(stats.incomplete_ops_discarded, 0);
  EXPECT_EQ(stats.repair_ops, 0);
  EXPECT_EQ(StateOf(local_d), committed);
  EXPECT_EQ(Dump(local_d), Dump(local_b));
  EXPECT_EQ(Watermarks(*cluster, kPartition).second, 12);  // no new repair

  // B restoring again is on the fast path.
  ASSERT_TRUE(b->Restore(&stats).ok());
  EXPECT_TRUE(stats.fast_path);
}

TEST(ChangelogStore, OpsBeforeTheLastMarkerApplyAsInACompactedTopic) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  // What compaction leaves of commits 1..3: the newest op of each key and
  // the newest marker only.
  ProduceRaw(*cluster, {{"k2", "b", "1"},
                        {"k1", "c", "3"},
                        {std::string(kChangelogMarkerKey), "3", "3"}});
  engine::MemoryStateStore local;
  ChangelogStore::RestoreStats stats;
  std::unique_ptr<ChangelogStore> store = Restored(*cluster, &local, &stats);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(stats.incomplete_ops_discarded, 0);
  EXPECT_EQ(Dump(local),
            (KeyValues{{"p2/k1", "c"}, {"p2/k2", "b"}, {kMeta, "3"}}));
  EXPECT_EQ(store->last_seq(), 3);
}

TEST(ChangelogStore, DeletesRestoreAsAbsenceAndBinaryValuesSurvive) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  const std::string binary(
      "\x00\x01\xff\x80 zero\x00"
      "end",
      13);
  ASSERT_EQ(binary[9], '\0');
  ASSERT_EQ(binary[10], 'e');
  const std::string binary_key("p2/acct\x00\xfe", 9);
  engine::MemoryStateStore local_a;
  std::unique_ptr<ChangelogStore> a = Restored(*cluster, &local_a);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Write(Batch({{"p2/gone", "x"},
                              {"p2/bin", binary},
                              {"p2/empty", ""},
                              {binary_key, binary}}))
                  .ok());
  ASSERT_TRUE(
      a->Write(Batch({{"p2/gone", std::nullopt}, {"p2/never", std::nullopt}}))
          .ok());

  engine::MemoryStateStore local_b;
  std::unique_ptr<ChangelogStore> b = Restored(*cluster, &local_b);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Dump(local_b), Dump(local_a));
  auto gone = b->Get("p2/gone");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, std::nullopt);
  auto never = b->Get("p2/never");
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(*never, std::nullopt);
  auto bin = b->Get("p2/bin");
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(*bin, binary);
  ASSERT_EQ(bin->value().size(), 13u);
  auto bin_key = b->Get(binary_key);
  ASSERT_TRUE(bin_key.ok());
  EXPECT_EQ(*bin_key, binary);
  auto empty = b->Get("p2/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, std::optional<std::string>(""));  // empty, not deleted
}

TEST(ChangelogStore, FullRestoreRemovesStaleLocalKeysUnderThePrefix) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  {
    engine::MemoryStateStore local_a;
    std::unique_ptr<ChangelogStore> a = Restored(*cluster, &local_a);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->Write(Batch({{"p2/k1", "committed"}})).ok());
  }
  // A previous owner's leftovers, more than one delete chunk of them, and a
  // meta key that does not match the changelog.
  engine::MemoryStateStore local_b;
  engine::StateBatch leftovers;
  for (int i = 0; i < 25000; ++i) {
    leftovers.Put("p2/stale/" + std::to_string(i), "old");
  }
  leftovers.Put("p2/k1", "old");
  leftovers.Put(kMeta, "99");
  leftovers.Put("p1/keep", "other partition");
  ASSERT_TRUE(local_b.Write(leftovers).ok());

  ChangelogStore::RestoreStats stats;
  std::unique_ptr<ChangelogStore> b = Restored(*cluster, &local_b, &stats);
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(stats.fast_path);
  EXPECT_EQ(stats.keys_restored, 1);
  EXPECT_EQ(Dump(local_b), (KeyValues{{"p2/k1", "committed"}, {kMeta, "1"}}));
  EXPECT_EQ(Dump(local_b, "p1/"), (KeyValues{{"p1/keep", "other partition"}}));
}

TEST(ChangelogStore, UnreadableMessagesAreDataLossNamingTheOffset) {
  const std::string account = "DK5000400440116243";
  struct Case {
    const char* what;
    RawMessage message;
  };
  for (const Case& c : std::vector<Case>{
           {"marker value not a number",
            {std::string(kChangelogMarkerKey), account, "1"}},
           {"commit header not a number", {account, "v", "one"}},
           {"0x01 key that is not the marker", {"\x01" + account, "v", "1"}}}) {
    std::unique_ptr<MockCluster> cluster = StartCluster();
    ASSERT_NE(cluster, nullptr);
    // A good commit, then the bad message at offset 2.
    ProduceRaw(*cluster, {{"k", "v", "1"},
                          {std::string(kChangelogMarkerKey), "1", "1"},
                          c.message});
    engine::MemoryStateStore local;
    std::unique_ptr<ChangelogStore> store = NewStore(Options(*cluster), &local);
    ASSERT_NE(store, nullptr);
    absl::Status status = store->Restore();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss)
        << c.what << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr("changelog/2@2"))
        << c.what;
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(account)))
        << c.what;
    EXPECT_EQ(store->Write(Batch({{"p2/k", "x"}})).code(),
              absl::StatusCode::kFailedPrecondition)
        << c.what;
  }
}

TEST(ChangelogStore, FullRestoreIsDataLossWhenTheHeadWasDeleted) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local_a;
  std::unique_ptr<ChangelogStore> a = Restored(*cluster, &local_a);
  ASSERT_NE(a, nullptr);
  // More than the mock keeps per partition (about 5 MiB): it drops the
  // oldest commits, as retention would on a topic that is not compacted.
  const std::string value(256 * 1024, 'v');
  for (int i = 0; i < 32; ++i) {
    ASSERT_TRUE(a->Write(Batch({{"p2/k" + std::to_string(i), value}})).ok());
  }
  const auto [low, high] = Watermarks(*cluster, kPartition);
  ASSERT_GT(low, 0) << "the mock kept everything: write more";
  EXPECT_EQ(high, 64);

  // A's own store is current: the fast path needs only the last message.
  ChangelogStore::RestoreStats stats;
  ASSERT_TRUE(a->Restore(&stats).ok());
  EXPECT_TRUE(stats.fast_path);
  // A fresh one cannot rebuild the state.
  engine::MemoryStateStore local_b;
  std::unique_ptr<ChangelogStore> b = NewStore(Options(*cluster), &local_b);
  ASSERT_NE(b, nullptr);
  absl::Status status = b->Restore();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat("starts at offset ", low)));
  EXPECT_THAT(std::string(status.message()), HasSubstr("changelog/2"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("cleanup.policy=compact"));
}

TEST(ChangelogStore, EmptyChangelogClearsThePrefix) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local;
  ASSERT_TRUE(
      local
          .Write(Batch(
              {{"p2/a", "stale"}, {kMeta, "5"}, {"p1/b", "other partition"}}))
          .ok());
  ChangelogStore::RestoreStats stats;
  std::unique_ptr<ChangelogStore> store = Restored(*cluster, &local, &stats);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(stats.fast_path);
  EXPECT_EQ(stats.messages_read, 0);
  EXPECT_TRUE(Dump(local).empty());
  EXPECT_EQ(Dump(local, "p1/"), (KeyValues{{"p1/b", "other partition"}}));
  EXPECT_EQ(store->last_seq(), 0);
  // Numbering starts again at 1.
  ASSERT_TRUE(store->Write(Batch({{"p2/a", "new"}})).ok());
  EXPECT_EQ(Dump(local), (KeyValues{{"p2/a", "new"}, {kMeta, "1"}}));
}

TEST(ChangelogStore, WriteRefusesKeysOutsideThePrefixAndWritesNothing) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local;
  std::unique_ptr<ChangelogStore> store = NewStore(Options(*cluster), &local);
  ASSERT_NE(store, nullptr);
  // Before Restore(): refused.
  EXPECT_EQ(store->Write(Batch({{"p2/a", "1"}})).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Restore().ok());
  ASSERT_TRUE(store->Write(Batch({{"p2/a", "1"}})).ok());
  const KeyValues before = Dump(local);
  const int writes = local.writes();

  const std::string account = "DK5000400440116243";
  for (const std::vector<Op>& ops :
       std::vector<std::vector<Op>>{{{"p2/ok", "1"}, {"p3/" + account, "2"}},
                                    {{account, "1"}},
                                    {{"p2", "1"}},
                                    {{kMeta, "7"}},
                                    {{"p2/\x01" + account, "1"}}}) {
    absl::Status status = store->Write(Batch(ops));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << status << " for " << ops.back().key;
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(account)));
  }
  // An empty batch is no commit.
  EXPECT_TRUE(store->Write(engine::StateBatch()).ok());
  EXPECT_EQ(local.writes(), writes);
  EXPECT_EQ(Dump(local), before);
  EXPECT_EQ(store->last_seq(), 1);
  EXPECT_EQ(Watermarks(*cluster, kPartition).second, 2);  // commit 1 only
  // Still usable.
  ASSERT_TRUE(store->Write(Batch({{"p2/b", "2"}})).ok());
  EXPECT_EQ(store->last_seq(), 2);
}

TEST(ChangelogStoreOptions, ValidateRejectsBadOptions) {
  ChangelogStoreOptions good;
  good.properties = {{"bootstrap.servers", "127.0.0.1:1"}};
  good.topic = kTopic;
  good.partition = 0;
  good.local_prefix = "p0/";
  ASSERT_TRUE(good.Validate().ok()) << good.Validate();

  std::vector<std::pair<std::string, ChangelogStoreOptions>> bad;
  bad.emplace_back("no topic", good);
  bad.back().second.topic.clear();
  bad.emplace_back("no partition", good);
  bad.back().second.partition = -1;
  bad.emplace_back("no prefix", good);
  bad.back().second.local_prefix.clear();
  bad.emplace_back("prefix without slash", good);
  bad.back().second.local_prefix = "p0";
  bad.emplace_back("no brokers", good);
  bad.back().second.properties.clear();
  bad.emplace_back("acks=1", good);
  bad.back().second.properties.emplace_back("acks", "1");
  bad.emplace_back("no idempotence", good);
  bad.back().second.properties.emplace_back("enable.idempotence", "false");
  bad.emplace_back("restore timeout 0", good);
  bad.back().second.restore_poll_timeout_ms = 0;
  for (const auto& [what, options] : bad) {
    EXPECT_EQ(options.Validate().code(), absl::StatusCode::kInvalidArgument)
        << what;
    engine::MemoryStateStore local;
    EXPECT_EQ(ChangelogStore::Create(options, &local).status().code(),
              absl::StatusCode::kInvalidArgument)
        << what;
  }
  EXPECT_EQ(ChangelogStore::Create(good, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  // An unknown librdkafka property is refused when the client is made.
  ChangelogStoreOptions unknown = good;
  unknown.properties.emplace_back("no.such.property", "1");
  engine::MemoryStateStore local;
  EXPECT_EQ(ChangelogStore::Create(unknown, &local).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChangelogStore, WriteFailsAndLeavesLocalUntouchedWhenBrokersAreDown) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local;
  ChangelogStoreOptions o = Options(*cluster);
  o.flush_timeout_ms = 2000;
  o.on_client_error = [](const absl::Status&) {};
  std::unique_ptr<ChangelogStore> store = NewStore(o, &local);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Restore().ok());
  ASSERT_TRUE(store->Write(Batch({{"p2/k1", "before"}})).ok());
  const KeyValues before = Dump(local);
  const int writes = local.writes();

  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  const std::string account = "DK5000400440116243";
  const auto start = Clock::now();
  absl::Status status =
      store->Write(Batch({{"p2/k1", account}, {"p2/" + account, "x"}}));
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("changelog/2"));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(account)));
  EXPECT_LT(seconds, 10.0);
  EXPECT_EQ(local.writes(), writes);
  EXPECT_EQ(Dump(local), before);
  EXPECT_EQ(store->last_seq(), 1);
  // Sticky, even when the brokers are back: the changelog may be ahead.
  ASSERT_TRUE(cluster->SetBrokerUp(MockCluster::kAllBrokers).ok());
  EXPECT_EQ(store->Write(Batch({{"p2/k2", "y"}})).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Dump(local), before);
}

TEST(ChangelogStore, RestoreOfAnUnknownPartitionIsNotFound) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  engine::MemoryStateStore local;
  ChangelogStoreOptions o = Options(*cluster);
  o.partition = kPartitions;  // one past the last
  o.local_prefix = "p4/";
  std::unique_ptr<ChangelogStore> store = NewStore(o, &local);
  ASSERT_NE(store, nullptr);
  const auto start = Clock::now();
  absl::Status status = store->Restore();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("changelog/4"));
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 12.0);
}

TEST(ChangelogStore, RestoreIsUnavailableWhenBrokersAreDown) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  engine::MemoryStateStore local;
  ASSERT_TRUE(local.Write(Batch({{"p2/k", "kept"}})).ok());
  ChangelogStoreOptions o = Options(*cluster);
  o.on_client_error = [](const absl::Status&) {};
  std::unique_ptr<ChangelogStore> store = NewStore(o, &local);
  ASSERT_NE(store, nullptr);
  absl::Status status = store->Restore();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("changelog/2"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(cluster->bootstrap_servers()));
  EXPECT_EQ(Dump(local), (KeyValues{{"p2/k", "kept"}}));  // untouched
  EXPECT_EQ(store->Write(Batch({{"p2/k", "x"}})).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ChangelogStore, SharedProducerDeferredWritesApplyOnlyAfterCompleteWrite) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  auto shared = ChangelogProducer::Create(
      {{"bootstrap.servers", cluster->bootstrap_servers()}}, kTopic);
  ASSERT_TRUE(shared.ok()) << shared.status();
  engine::MemoryStateStore local;
  // Two partitions' stores over one local store and one producer.
  ChangelogStoreOptions o2 = Options(*cluster);
  o2.shared_producer = shared->get();
  o2.deferred = true;
  ChangelogStoreOptions o1 = o2;
  o1.partition = 1;
  o1.local_prefix = "p1/";
  auto s2 = ChangelogStore::Create(o2, &local);
  auto s1 = ChangelogStore::Create(o1, &local);
  ASSERT_TRUE(s2.ok() && s1.ok());
  ASSERT_TRUE((*s2)->Restore().ok());
  ASSERT_TRUE((*s1)->Restore().ok());

  ASSERT_TRUE((*s2)->Write(Batch({{"p2/a", "1"}, {"p2/b", "2"}})).ok());
  ASSERT_TRUE((*s1)->Write(Batch({{"p1/a", "x"}})).ok());
  // Queued, not yet local; a second write before completing is refused.
  EXPECT_TRUE(Dump(local).empty());
  EXPECT_EQ((*s2)->Write(Batch({{"p2/c", "3"}})).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*shared)->Flush(20000).ok());
  ASSERT_TRUE((*s2)->CompleteWrite().ok());
  ASSERT_TRUE((*s1)->CompleteWrite().ok());
  EXPECT_EQ(Dump(local),
            (KeyValues{{"p2/a", "1"}, {"p2/b", "2"}, {kMeta, "1"}}));
  EXPECT_EQ(Dump(local, "p1/"),
            (KeyValues{{"p1/a", "x"}, {"p1/meta/changelog", "1"}}));
  ASSERT_TRUE((*s2)->Write(Batch({{"p2/a", std::nullopt}})).ok());
  ASSERT_TRUE((*shared)->Flush(20000).ok());
  ASSERT_TRUE((*s2)->CompleteWrite().ok());

  // Each partition's changelog restores its own state only.
  engine::MemoryStateStore fresh;
  std::unique_ptr<ChangelogStore> r = Restored(*cluster, &fresh);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Dump(fresh), (KeyValues{{"p2/b", "2"}, {kMeta, "2"}}));
  EXPECT_TRUE(Dump(fresh, "p1/").empty());

  // A deferred commit whose delivery fails is not applied locally.
  s1->reset();
  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  ASSERT_TRUE((*s2)->Write(Batch({{"p2/z", "9"}})).ok());
  EXPECT_EQ((*shared)->Flush(1500).code(), absl::StatusCode::kDeadlineExceeded);
  s2->reset();  // dropping the store with the commit unapplied
  EXPECT_EQ(Dump(local).count("p2/z"), 0u);
  ASSERT_TRUE(cluster->SetBrokerUp(MockCluster::kAllBrokers).ok());
}

}  // namespace
}  // namespace txflag::connectors::kafka
