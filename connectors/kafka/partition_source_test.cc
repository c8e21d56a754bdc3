// KafkaPartitionSource and KafkaAlertSink against the in-process mock
// cluster: one partition read in offset order with rejects, checkpoint and
// restore, alerts read back keyed by alert_id, and the engine over a Kafka
// partition giving the same alerts as over the same payments in memory.
#include "connectors/kafka/partition_source.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/alert_sink.h"
#include "connectors/kafka/internal/rdkafka_handles.h"
#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/test_consumer.h"
#include "engine/driver.h"
#include "engine/memory.h"
#include "engine/processor.h"
#include "engine/testing/count_rule.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "rules/rule.h"
#include "rules/window.h"

namespace txflag::connectors::kafka {
namespace {

using ::testing::HasSubstr;
using txflag::engine::SourceRecord;
using txflag::v1::Alert;
using txflag::v1::Payment;
using Clock = std::chrono::steady_clock;

constexpr char kTopic[] = "payments";

std::unique_ptr<MockCluster> StartCluster(int partitions) {
  auto cluster = MockCluster::Start();
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return nullptr;
  EXPECT_TRUE((*cluster)->CreateTopic(kTopic, partitions, 1).ok());
  EXPECT_TRUE((*cluster)->CreateTopic("alerts", 2, 1).ok());
  return std::move(*cluster);
}

// One message to an explicit partition (the source must not depend on the
// partitioner), delivered before it returns.
struct RawMessage {
  int32_t partition = 0;
  std::string key;
  std::string value;
};

void ProduceRaw(const MockCluster& cluster, const std::string& topic,
                const std::vector<RawMessage>& messages) {
  auto conf =
      internal::NewConf({{"bootstrap.servers", cluster.bootstrap_servers()},
                         {"enable.idempotence", "true"},
                         {"log_level", "2"}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  auto rk = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  ASSERT_TRUE(rk.ok()) << rk.status();
  for (const RawMessage& m : messages) {
    ASSERT_EQ(
        rd_kafka_producev(
            rk->get(), RD_KAFKA_V_TOPIC(topic.c_str()),
            RD_KAFKA_V_PARTITION(m.partition),
            RD_KAFKA_V_KEY(const_cast<char*>(m.key.data()), m.key.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
        RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk->get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

Payment MakePayment(int i, const std::string& debtor,
                    const std::string& creditor, int64_t seconds) {
  Payment p;
  p.set_id("p" + std::to_string(i));
  p.mutable_timestamp()->set_seconds(seconds);
  p.set_channel(Payment::MOBILE);
  p.set_debtor_account(debtor);
  p.set_creditor_account(creditor);
  p.set_amount_minor(1000 + i);
  p.set_currency("DKK");
  return p;
}

// What a message should come back as.
struct Expected {
  int64_t offset = 0;
  bool reject = false;
  std::string payment_id;  // for a payment
  std::string raw;         // for a reject
};

// n messages over 2 partitions (i % 2); every 5th (i % 5 == 3) is not a
// protobuf at all, every 7th (i % 7 == 6) a payment failing the checks.
// Returns what partition 0 should give.
std::vector<Expected> ProduceMixed(const MockCluster& cluster, int n,
                                   PaymentEncoding encoding) {
  std::vector<RawMessage> messages;
  std::vector<Expected> partition0;
  int64_t offsets[2] = {0, 0};
  for (int i = 0; i < n; ++i) {
    RawMessage m;
    m.partition = i % 2;
    m.key = "DK" + std::to_string(i);
    Payment p =
        MakePayment(i, "DK" + std::to_string(i), "DK99", 1740859200 + 60 * i);
    if (i % 7 == 6) p.set_amount_minor(-5);
    bool reject = i % 7 == 6;
    if (i % 5 == 3) {
      m.value = encoding == PaymentEncoding::kProtobuf
                    ? std::string("\xff\xff\xff\x01garbage", 11)
                    : std::string("{\"id\": \"p\", \"no_such_field\": 1}");
      reject = true;
    } else {
      m.value = *EncodePayment(p, encoding);
    }
    if (m.partition == 0) {
      Expected e;
      e.offset = offsets[0];
      e.reject = reject;
      e.payment_id = p.id();
      e.raw = m.value;
      partition0.push_back(e);
    }
    ++offsets[m.partition];
    messages.push_back(std::move(m));
  }
  ProduceRaw(cluster, kTopic, messages);
  return partition0;
}

KafkaPartitionSourceOptions SourceOptions(const MockCluster& cluster,
                                          int32_t partition) {
  KafkaPartitionSourceOptions o;
  o.properties = {{"bootstrap.servers", cluster.bootstrap_servers()}};
  o.topic = kTopic;
  o.partition = partition;
  o.stop_at_end = true;
  o.poll_timeout_ms = 200;
  return o;
}

// Reads to the end (stop_at_end), allowing for idle polls while the first
// fetch is on its way; fails after 15 s.
std::vector<SourceRecord> ReadAll(KafkaPartitionSource* source,
                                  size_t max = SIZE_MAX) {
  std::vector<SourceRecord> out;
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (out.size() < max && Clock::now() < deadline) {
    SourceRecord record;
    auto got = source->Next(&record);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) break;
    if (*got) {
      out.push_back(std::move(record));
      continue;
    }
    if (source->at_end()) break;
    EXPECT_TRUE(source->idle());
  }
  return out;
}

void CheckRecords(const std::vector<SourceRecord>& got,
                  const std::vector<Expected>& expected, size_t from) {
  ASSERT_EQ(got.size(), expected.size() - from);
  for (size_t i = 0; i < got.size(); ++i) {
    const Expected& e = expected[from + i];
    const SourceRecord& r = got[i];
    EXPECT_EQ(r.location, "payments/0@" + std::to_string(e.offset));
    if (e.reject) {
      EXPECT_EQ(r.kind, SourceRecord::Kind::kReject) << r.location;
      EXPECT_FALSE(r.reason.empty());
      EXPECT_EQ(r.raw, e.raw);
    } else {
      EXPECT_EQ(r.kind, SourceRecord::Kind::kPayment) << r.reason;
      EXPECT_EQ(r.payment.id(), e.payment_id);
      EXPECT_TRUE(r.raw.empty());
    }
  }
}

void ReadsPartitionZero(PaymentEncoding encoding) {
  std::unique_ptr<MockCluster> cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  const std::vector<Expected> expected = ProduceMixed(*cluster, 40, encoding);
  KafkaPartitionSourceOptions o = SourceOptions(*cluster, 0);
  o.encoding = encoding;
  auto source = KafkaPartitionSource::Create(o);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->end_offset(), 20);
  EXPECT_EQ((*source)->Progress(), 0.0);
  std::vector<SourceRecord> got = ReadAll(source->get());
  CheckRecords(got, expected, 0);
  EXPECT_TRUE((*source)->at_end());
  EXPECT_EQ((*source)->Checkpoint(), "kafka1:payments/0@20");
  EXPECT_EQ((*source)->Progress(), 1.0);
}

TEST(KafkaPartitionSource, ReadsOnePartitionInOrderWithRejects) {
  ReadsPartitionZero(PaymentEncoding::kProtobuf);
}

TEST(KafkaPartitionSource, ReadsJsonPayments) {
  ReadsPartitionZero(PaymentEncoding::kJson);
}

TEST(KafkaPartitionSource, RestoredFromCheckpointYieldsTheRest) {
  std::unique_ptr<MockCluster> cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  const std::vector<Expected> expected =
      ProduceMixed(*cluster, 40, PaymentEncoding::kProtobuf);
  constexpr size_t kFirst = 7;
  std::string checkpoint;
  {
    auto source = KafkaPartitionSource::Create(SourceOptions(*cluster, 0));
    ASSERT_TRUE(source.ok()) << source.status();
    std::vector<SourceRecord> first = ReadAll(source->get(), kFirst);
    ASSERT_EQ(first.size(), kFirst);
    checkpoint = (*source)->Checkpoint();
  }
  EXPECT_EQ(checkpoint, "kafka1:payments/0@7");
  auto source = KafkaPartitionSource::Create(SourceOptions(*cluster, 0));
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_TRUE((*source)->Restore(checkpoint).ok());
  CheckRecords(ReadAll(source->get()), expected, kFirst);

  // Another partition's or another topic's checkpoint, and garbage.
  auto other = KafkaPartitionSource::Create(SourceOptions(*cluster, 1));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ((*other)->Restore(checkpoint).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*other)->Restore("kafka1:alerts/1@3").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*other)->Restore("payments/1@3").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*other)->Restore("kafka1:payments/1@x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*other)->Restore("").ok());
}

TEST(KafkaPartitionSource, LiveSourceIsIdleNotAtEnd) {
  std::unique_ptr<MockCluster> cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  KafkaPartitionSourceOptions o = SourceOptions(*cluster, 1);
  o.stop_at_end = false;
  o.poll_timeout_ms = 100;
  auto source = KafkaPartitionSource::Create(o);
  ASSERT_TRUE(source.ok()) << source.status();
  SourceRecord record;
  const auto start = Clock::now();
  auto got = (*source)->Next(&record);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(*got);
  EXPECT_TRUE((*source)->idle());
  EXPECT_FALSE((*source)->at_end());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  // A message produced later arrives on a later call.
  ProduceRaw(*cluster, kTopic,
             {{1, "k",
               *EncodePayment(MakePayment(1, "A", "B", 1740859200),
                              PaymentEncoding::kProtobuf)}});
  bool arrived = false;
  for (int i = 0; i < 50 && !arrived; ++i) {
    got = (*source)->Next(&record);
    ASSERT_TRUE(got.ok()) << got.status();
    arrived = *got;
  }
  ASSERT_TRUE(arrived);
  EXPECT_EQ(record.location, "payments/1@0");
  EXPECT_EQ(record.payment.id(), "p1");
}

TEST(KafkaPartitionSource, UnknownPartitionAndBadOptions) {
  std::unique_ptr<MockCluster> cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  KafkaPartitionSourceOptions o = SourceOptions(*cluster, 0);
  o.topic.clear();
  EXPECT_EQ(KafkaPartitionSource::Create(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = SourceOptions(*cluster, 0);
  o.poll_timeout_ms = 0;
  EXPECT_EQ(KafkaPartitionSource::Create(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = SourceOptions(*cluster, 0);
  o.properties.push_back({"no.such.property", "1"});
  EXPECT_THAT(std::string(KafkaPartitionSource::Create(o).status().message()),
              HasSubstr("no.such.property"));
  o = SourceOptions(*cluster, 7);
  auto unknown = KafkaPartitionSource::Create(o);
  EXPECT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("payments/7"));
}

TEST(KafkaPartitionSource, BrokersDownIsIdleThenResumesOrGivesUp) {
  std::unique_ptr<MockCluster> cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  auto payment = [](int i) {
    return *EncodePayment(MakePayment(i, "A", "B", 1740859200 + i),
                          PaymentEncoding::kProtobuf);
  };
  ProduceRaw(*cluster, kTopic, {{0, "k", payment(0)}, {0, "k", payment(1)}});
  std::vector<absl::Status> reports;
  KafkaPartitionSourceOptions o = SourceOptions(*cluster, 0);
  o.stop_at_end = false;
  o.poll_timeout_ms = 100;
  o.on_client_error = [&](const absl::Status& s) { reports.push_back(s); };
  auto source = KafkaPartitionSource::Create(o);
  ASSERT_TRUE(source.ok()) << source.status();
  SourceRecord record;
  int read = 0;
  for (int i = 0; i < 50 && read < 2; ++i) {
    auto got = (*source)->Next(&record);
    ASSERT_TRUE(got.ok()) << got.status();
    read += *got;
  }
  ASSERT_EQ(read, 2);

  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  const auto down = Clock::now();
  while (reports.empty() && Clock::now() - down < std::chrono::seconds(8)) {
    auto got = (*source)->Next(&record);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_FALSE(*got);
    EXPECT_TRUE((*source)->idle());
  }
  ASSERT_FALSE(reports.empty()) << "no broker error reported";
  EXPECT_EQ(reports.front().code(), absl::StatusCode::kUnavailable)
      << reports.front();
  EXPECT_THAT(std::string(reports.front().message()),
              ::testing::Not(HasSubstr("\"A\"")));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*source)->Next(&record).ok());
  EXPECT_EQ(reports.size(), 1u);  // once per outage

  ASSERT_TRUE(cluster->SetBrokerUp(MockCluster::kAllBrokers).ok());
  ProduceRaw(*cluster, kTopic, {{0, "k", payment(2)}});
  bool arrived = false;
  const auto up = Clock::now();
  while (!arrived && Clock::now() - up < std::chrono::seconds(10)) {
    auto got = (*source)->Next(&record);
    ASSERT_TRUE(got.ok()) << got.status();
    arrived = *got;
  }
  ASSERT_TRUE(arrived);
  EXPECT_EQ(record.location, "payments/0@2");
  EXPECT_TRUE(reports.back().ok());  // the recovery

  // An outage longer than unavailable_timeout_ms ends the source.
  o.unavailable_timeout_ms = 300;
  o.on_client_error = nullptr;
  auto bounded = KafkaPartitionSource::Create(o);
  ASSERT_TRUE(bounded.ok()) << bounded.status();
  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  absl::Status ended;
  const auto start = Clock::now();
  while (ended.ok() && Clock::now() - start < std::chrono::seconds(10)) {
    auto got = (*bounded)->Next(&record);
    if (!got.ok()) ended = got.status();
  }
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnavailable) << ended;
  ASSERT_TRUE(cluster->SetBrokerUp(MockCluster::kAllBrokers).ok());
}

Alert MakeAlert(const std::string& id, uint32_t revision) {
  Alert a;
  a.set_alert_id(id);
  a.set_revision(revision);
  a.set_account("acct-" + id);
  a.add_typologies("SE");
  return a;
}

TEST(KafkaAlertSink, EveryRevisionKeyedByAlertId) {
  for (AlertEncoding encoding :
       {AlertEncoding::kProtobuf, AlertEncoding::kJson}) {
    std::unique_ptr<MockCluster> cluster = StartCluster(2);
    ASSERT_NE(cluster, nullptr);
    KafkaAlertSinkOptions o;
    o.properties = {{"bootstrap.servers", cluster->bootstrap_servers()}};
    o.topic = "alerts";
    o.encoding = encoding;
    o.flush_timeout_ms = 10000;
    auto sink = KafkaAlertSink::Create(o);
    ASSERT_TRUE(sink.ok()) << sink.status();
    std::vector<Alert> sent;
    for (int i = 0; i < 6; ++i) {
      for (uint32_t rev = 1; rev <= static_cast<uint32_t>(1 + i % 3); ++rev) {
        sent.push_back(MakeAlert("a" + std::to_string(i), rev));
        ASSERT_TRUE((*sink)->Emit(sent.back()).ok());
      }
    }
    EXPECT_EQ((*sink)->Emit(Alert()).code(),
              absl::StatusCode::kInvalidArgument);
    absl::Status flushed = (*sink)->Flush();
    ASSERT_TRUE(flushed.ok()) << flushed;
    EXPECT_EQ((*sink)->stats().delivered, static_cast<int64_t>(sent.size()));

    auto messages = testing::ReadTopic(cluster->bootstrap_servers(), "alerts",
                                       2, sent.size());
    ASSERT_TRUE(messages.ok()) << messages.status();
    ASSERT_EQ(messages->size(), sent.size());
    std::map<std::string, std::vector<uint32_t>> revisions;
    std::map<std::string, int32_t> partition_of;
    for (const testing::ConsumedMessage& m : *messages) {
      Alert got;
      if (encoding == AlertEncoding::kProtobuf) {
        ASSERT_TRUE(got.ParseFromString(m.value));
      } else {
        ASSERT_TRUE(
            google::protobuf::util::JsonStringToMessage(m.value, &got).ok())
            << m.value;
      }
      EXPECT_EQ(m.key, got.alert_id());
      EXPECT_EQ(got.account(), "acct-" + got.alert_id());
      revisions[got.alert_id()].push_back(got.revision());
      auto [it, inserted] = partition_of.emplace(m.key, m.partition);
      EXPECT_EQ(it->second, m.partition);
    }
    ASSERT_EQ(revisions.size(), 6u);
    for (const auto& [id, revs] : revisions) {
      for (size_t r = 0; r < revs.size(); ++r) EXPECT_EQ(revs[r], r + 1) << id;
    }
  }
}

struct EngineRun {
  std::vector<std::string> final_alerts;  // serialized, by alert id
  std::vector<std::string> revisions;     // serialized, in emission order
  std::vector<std::string> rejects;       // "location|reason"
};

EngineRun RunEngine(const rules::CompiledPack& pack,
                    engine::PaymentSource* source, engine::AlertSink* alerts,
                    engine::CollectingAlertSink* collected) {
  engine::MemoryStateStore store;
  engine::MemoryRejectSink rejects;
  EngineRun run;
  auto processor = engine::Processor::Open(&pack, {}, &store, &rejects, alerts);
  EXPECT_TRUE(processor.ok()) << processor.status();
  if (!processor.ok()) return run;
  engine::DriverOptions options;
  options.commit_every_records = 25;  // several commits, several flushes
  absl::Status status = engine::RunToEnd(source, processor->get(), options);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE((*processor)
                  ->ForEachAlert([&](const Alert& a) {
                    run.final_alerts.push_back(a.SerializeAsString());
                  })
                  .ok());
  if (collected != nullptr) {
    for (const Alert& a : collected->emitted()) {
      run.revisions.push_back(a.SerializeAsString());
    }
  }
  for (const auto& row : rejects.rows()) {
    run.rejects.push_back(row.reason);
  }
  return run;
}

TEST(KafkaPartitionSource, EngineGivesTheSameAlertsAsFromMemory) {
  std::unique_ptr<MockCluster> cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  // Fan-in to a few accounts and fan-out from others over two days, with a
  // malformed message among them; all in partition 0, in this order.
  std::vector<RawMessage> messages;
  std::vector<SourceRecord> records;
  int64_t t = 1714550400;  // 2024-05-01T08:00:00Z
  for (int i = 0; i < 120; ++i) {
    t += 600 + (i % 7) * 60;
    Payment p = MakePayment(i, "payer" + std::to_string(i % 9),
                            "victim" + std::to_string(i % 4), t);
    RawMessage m{0, std::string(PaymentKey(p)), ""};
    if (i == 50) {
      m.value = "not a payment";
    } else {
      m.value = *EncodePayment(p, PaymentEncoding::kProtobuf);
      SourceRecord r;
      r.payment = p;
      r.location = "memory:" + std::to_string(i);
      records.push_back(std::move(r));
    }
    messages.push_back(std::move(m));
  }
  ProduceRaw(*cluster, kTopic, messages);

  const rules::CompiledPack pack = engine::testing::MakeCountPack();
  engine::CollectingAlertSink memory_alerts;
  engine::VectorSource memory_source(records);
  EngineRun from_memory =
      RunEngine(pack, &memory_source, &memory_alerts, &memory_alerts);
  ASSERT_FALSE(from_memory.final_alerts.empty());

  KafkaAlertSinkOptions sink_options;
  sink_options.properties = {
      {"bootstrap.servers", cluster->bootstrap_servers()}};
  sink_options.topic = "alerts";
  sink_options.flush_timeout_ms = 10000;
  auto sink = KafkaAlertSink::Create(sink_options);
  ASSERT_TRUE(sink.ok()) << sink.status();
  auto source = KafkaPartitionSource::Create(SourceOptions(*cluster, 0));
  ASSERT_TRUE(source.ok()) << source.status();
  EngineRun from_kafka = RunEngine(pack, source->get(), sink->get(), nullptr);

  EXPECT_EQ(from_kafka.final_alerts, from_memory.final_alerts);
  ASSERT_EQ(from_kafka.rejects.size(), 1u);
  EXPECT_EQ((*sink)->stats().delivered,
            static_cast<int64_t>(from_memory.revisions.size()));

  // The alerts topic holds every revision the in-memory run emitted.
  auto read = testing::ReadTopic(cluster->bootstrap_servers(), "alerts", 2,
                                 from_memory.revisions.size());
  ASSERT_TRUE(read.ok()) << read.status();
  std::multiset<std::string> got,
      want(from_memory.revisions.begin(), from_memory.revisions.end());
  for (const testing::ConsumedMessage& m : *read) {
    Alert a;
    ASSERT_TRUE(a.ParseFromString(m.value));
    EXPECT_EQ(m.key, a.alert_id());
    got.insert(a.SerializeAsString());
  }
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace txflag::connectors::kafka
