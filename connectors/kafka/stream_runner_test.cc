// RunStream in this process against the mock cluster, for behaviour that
// needs control over the brokers' timing (the end-to-end tests in
// tests/stream_test.cc run the txflag executable instead).
#include "connectors/kafka/stream_runner.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connectors/kafka/dead_letter_sink.h"
#include "connectors/kafka/internal/rdkafka_handles.h"
#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/payment_producer.h"
#include "connectors/kafka/test_consumer.h"
#include "engine/memory.h"
#include "engine/metrics_registry.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/payment.pb.h"
#include "proto/repartition.pb.h"
#include "rules/rule_pack.h"

namespace txflag::connectors::kafka {
namespace {

using txflag::v1::Payment;
using Clock = std::chrono::steady_clock;

std::string EncodedPayment(int i, int64_t seconds) {
  Payment p;
  p.set_id("p" + std::to_string(i));
  p.mutable_timestamp()->set_seconds(seconds);
  p.set_channel(Payment::MOBILE);
  p.set_debtor_account("DK00DEBTOR" + std::to_string(i));
  p.set_creditor_account("DK00CREDITOR" + std::to_string(i));
  p.set_amount_minor(1000 + i);
  p.set_currency("DKK");
  return p.SerializeAsString();
}

// Produces to explicit partitions without waiting for acknowledgements, so
// a slow broker does not hold back the messages for the others.
class RawProducer {
 public:
  explicit RawProducer(const MockCluster& cluster) {
    auto conf =
        internal::NewConf({{"bootstrap.servers", cluster.bootstrap_servers()},
                           {"linger.ms", "0"},
                           {"log_level", "2"}});
    EXPECT_TRUE(conf.ok()) << conf.status();
    auto rk = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
    EXPECT_TRUE(rk.ok()) << rk.status();
    rk_ = std::move(*rk);
  }
  void Send(
      const std::string& topic, int32_t partition, const std::string& value,
      const std::string& key = "",
      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& [name, v] : headers) {
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()),
                          v.data(), static_cast<ssize_t>(v.size()));
    }
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(hdrs);
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_poll(rk_.get(), 0);
  }
  void Flush() {
    ASSERT_EQ(rd_kafka_flush(rk_.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

 private:
  internal::HandlePtr rk_;
};

// Waits up to `timeout` for pred().
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// RunStream's options for these tests: the mock's brokers, commits every
// 200 ms, a partition idle after 300 ms of silence, no allowed lateness
// (a test that needs some sets it).
StreamRunnerOptions TestOptions(const MockCluster& cluster, StreamMode mode,
                                const rules::CompiledPack* pack,
                                engine::StateStore* store,
                                engine::MetricsRegistry* registry,
                                std::atomic<bool>* stop,
                                std::atomic<bool>* ready) {
  StreamRunnerOptions o;
  o.properties = {{"bootstrap.servers", cluster.bootstrap_servers()},
                  {"session.timeout.ms", "6000"}};
  o.mode = mode;
  o.pack = pack;
  o.store = store;
  o.allowed_lateness_seconds = 0;
  o.max_input_idle_ms = 300;
  o.commit_interval_ms = 200;
  o.stop = stop;
  o.ready = ready;
  o.metrics = registry;
  return o;
}

// The records-processed counter, as a scraper reads it.
engine::Counter* ProcessedCounter(engine::MetricsRegistry* registry) {
  auto processed = registry->GetCounter(
      "txflag_records_processed_total",
      "Payments (in-process mode) or legs (repartition mode) given to the "
      "engine.");
  EXPECT_TRUE(processed.ok()) << processed.status();
  return processed.ok() ? *processed : nullptr;
}

// Expects no dead letters, and reports each of the `count` there are, with
// its headers (the reason, the source), as a failure.
void ExpectNoDeadLetters(const MockCluster& cluster, int64_t count) {
  EXPECT_EQ(count, 0);
  if (count <= 0) return;
  auto dlq = testing::ReadTopic(cluster.bootstrap_servers(), "payments.dlq", 2,
                                count, 5000);
  ASSERT_TRUE(dlq.ok()) << dlq.status();
  for (const auto& m : *dlq) {
    std::string headers;
    for (const auto& [k, v] : m.headers) headers += k + "=" + v + " ";
    ADD_FAILURE() << "dead letter: " << headers;
  }
}

// RunStream on a thread of this process, against a fresh mock cluster with
// the five topics it uses (`partitions` each, group "txflag"), the default
// pack, in-memory state and TestOptions: the setup of most tests here.
//   RunningEngine e;
//   ASSERT_NO_FATAL_FAILURE(e.Create(StreamMode::kRepartition, 2));
//   e.o.allowed_lateness_seconds = 3600;       // options, before Start()
//   ASSERT_NO_FATAL_FAILURE(e.Start());        // returns once ready
//   ... produce to e.cluster(), watch e.registry ...
//   ASSERT_TRUE(e.Stop().ok());                // then e.summary
struct RunningEngine {
  void Create(StreamMode mode, int partitions) {
    auto started = MockCluster::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = std::move(*started);
    for (const char* topic : {"payments", "alerts", "payments.dlq",
                              "txflag.repartition", "txflag.changelog"}) {
      ASSERT_TRUE(cluster_->CreateTopic(topic, partitions, 1).ok());
    }
    auto loaded = rules::LoadRulePackOrDefault("");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    pack = std::make_unique<rules::CompiledPack>(std::move(*loaded));
    o = TestOptions(*cluster_, mode, pack.get(), &store, &registry, &stop,
                    &ready);
  }
  void Start() {
    engine = std::thread([this] { status = RunStream(o, &summary); });
    ASSERT_TRUE(
        WaitFor([&] { return ready.load(); }, std::chrono::seconds(30)));
  }
  absl::Status Stop() {
    stop.store(true);
    if (engine.joinable()) engine.join();
    return status;
  }
  ~RunningEngine() { Stop().IgnoreError(); }
  MockCluster& cluster() { return *cluster_; }

  std::unique_ptr<MockCluster> cluster_;
  std::unique_ptr<rules::CompiledPack> pack;
  engine::MemoryStateStore store;
  engine::MetricsRegistry registry;
  std::atomic<bool> stop{false};
  std::atomic<bool> ready{false};
  StreamRunnerOptions o;
  StreamRunSummary summary;
  absl::Status status;
  std::thread engine;
};

// A partition that goes quiet because its broker is slow to answer (here:
// every response of partition 1's leader delayed 4 s) is not idle: its next
// payment is on its way. Taking it for idle (as txflag did when it trusted
// the consumer's cached high watermark, which is only as new as the
// partition's last fetch) lets the watermark pass that payment, and with no
// allowed lateness it ends as a late dead letter (before the fix: 1 in
// in-process mode, its 2 legs in repartition mode). The brokers are asked
// instead, and a broker that does not answer in time leaves the partition
// holding the watermark.
class StreamRunnerModes : public ::testing::TestWithParam<StreamMode> {};

TEST_P(StreamRunnerModes, PartitionBehindASlowBrokerIsNotTakenForIdle) {
  RunningEngine e;
  ASSERT_NO_FATAL_FAILURE(e.Create(GetParam(), 2));
  MockCluster& cluster = e.cluster();
  // Everything but input partition 1 on broker 1 (the one kept fast).
  for (const char* topic :
       {"alerts", "payments.dlq", "txflag.repartition", "txflag.changelog"}) {
    for (int32_t p = 0; p < 2; ++p) {
      ASSERT_TRUE(cluster.SetPartitionLeader(topic, p, 1).ok());
    }
  }
  ASSERT_TRUE(cluster.SetPartitionLeader("payments", 0, 1).ok());
  ASSERT_TRUE(cluster.SetPartitionLeader("payments", 1, 2).ok());
  ASSERT_NO_FATAL_FAILURE(e.Start());
  engine::Counter* processed = ProcessedCounter(&e.registry);
  ASSERT_NE(processed, nullptr);

  RawProducer producer(cluster);
  // Warm up: each partition's first payment (the same event time, so that
  // neither is late whichever comes first) fetched through its leader.
  producer.Send("payments", 0, EncodedPayment(1, 900));
  producer.Send("payments", 1, EncodedPayment(2, 900));
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return processed->value() >= 2; },
                      std::chrono::seconds(20)));
  // Both partitions active: a payment each every 100 ms (well within the
  // 300 ms of silence after which a caught-up partition may be idle).
  for (int i = 0; i < 10; ++i) {
    producer.Send("payments", 0, EncodedPayment(100 + i, 1000 + i));
    producer.Send("payments", 1, EncodedPayment(200 + i, 1000 + i));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Partition 1's broker slows down; its next payment (event time 1050)
  // is sent at once, but the consumer sees it some 4 s later.
  ASSERT_TRUE(cluster.SetBrokerRtt(2, 4000).ok());
  producer.Send("payments", 1, EncodedPayment(300, 1050));
  // Partition 0 goes on, with newer payments, for 2 s: far more than the
  // 300 ms after which a caught-up, silent partition may count as idle.
  for (int i = 0; i < 10; ++i) {
    producer.Send("payments", 0, EncodedPayment(400 + i, 1100 + i));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // 2 + 20 + 1 + 10 payments, all processed (none late).
  // Records: payments in-process, legs (two per transfer) in repartition.
  const uint64_t records = GetParam() == StreamMode::kInProcess ? 33 : 66;
  EXPECT_TRUE(WaitFor([&] { return processed->value() >= records; },
                      std::chrono::seconds(20)))
      << processed->value() << " processed";
  ASSERT_TRUE(cluster.SetBrokerRtt(2, 0).ok());
  producer.Flush();
  ASSERT_TRUE(e.Stop().ok()) << e.status;
  EXPECT_EQ(e.summary.input_messages, 33);
  EXPECT_EQ(e.summary.records_processed, static_cast<int64_t>(records));
  ExpectNoDeadLetters(cluster, e.summary.dead_letters);
}

// An upstream that delivers at least once sends some payments twice, here
// one to each input partition. Both copies are read and processed, but the
// accounts' windows count the payment once: the default pack keeps a
// 1,000 DKK mobile transfer on both sides (small_transfers_out for the
// payer, small_transfers_in for the payee), so 2 legs are skipped.
TEST_P(StreamRunnerModes, APaymentDeliveredTwiceIsCountedOnce) {
  RunningEngine e;
  ASSERT_NO_FATAL_FAILURE(e.Create(GetParam(), 2));
  ASSERT_NO_FATAL_FAILURE(e.Start());
  engine::Counter* processed = ProcessedCounter(&e.registry);
  ASSERT_NE(processed, nullptr);
  auto repeated = e.registry.GetCounter(
      "txflag_repeated_legs_skipped_total",
      "Legs of a payment delivered twice upstream (the same id, time, "
      "direction, counterparty and amount as one the account's state holds) "
      "and skipped.");
  ASSERT_TRUE(repeated.ok()) << repeated.status();

  Payment p;
  p.set_id("pay-1");
  p.mutable_timestamp()->set_seconds(1700000000);
  p.set_channel(Payment::MOBILE);
  p.set_debtor_account("DK00BUYER");
  p.set_creditor_account("DK00VICTIM");
  p.set_amount_minor(100000);  // 1,000 DKK
  p.set_currency("DKK");
  RawProducer producer(e.cluster());
  producer.Send("payments", 0, p.SerializeAsString());
  producer.Send("payments", 1, p.SerializeAsString());
  producer.Flush();
  const uint64_t records = GetParam() == StreamMode::kInProcess ? 2 : 4;
  EXPECT_TRUE(WaitFor(
      [&] {
        return processed->value() >= records && (*repeated)->value() >= 2;
      },
      std::chrono::seconds(20)))
      << processed->value() << " processed, " << (*repeated)->value()
      << " repeated legs";
  ASSERT_TRUE(e.Stop().ok()) << e.status;
  EXPECT_EQ(e.summary.records_processed, static_cast<int64_t>(records));
  EXPECT_EQ((*repeated)->value(), 2u);
  ExpectNoDeadLetters(e.cluster(), e.summary.dead_letters);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, StreamRunnerModes,
    ::testing::Values(StreamMode::kInProcess, StreamMode::kRepartition),
    [](const ::testing::TestParamInfo<StreamMode>& info) {
      return std::string(info.param == StreamMode::kInProcess ? "InProcess"
                                                              : "Repartition");
    });

// Stage 1 forwards a payment in canonical protobuf form as its bytes came,
// and serializes anything else (JSON input) from the parsed message: either
// way each leg, keyed by its account and marked D or C, carries the input
// payment, and stage 2 gives the same count of processed legs.
class RepartitionLegs : public ::testing::TestWithParam<PaymentEncoding> {};

TEST_P(RepartitionLegs, CarryTheInputPaymentWhateverItsEncoding) {
  RunningEngine e;
  ASSERT_NO_FATAL_FAILURE(e.Create(StreamMode::kRepartition, 2));
  MockCluster& cluster = e.cluster();
  e.o.input_encoding = GetParam();
  // The default hour: all 20 payments are within it whichever partition
  // is fetched first (with none, a partition found idle before the first
  // payment would let the other's payments make its own late).
  e.o.allowed_lateness_seconds = 3600;
  ASSERT_NO_FATAL_FAILURE(e.Start());

  constexpr int kPayments = 20;
  std::vector<Payment> sent;
  RawProducer producer(cluster);
  for (int i = 0; i < kPayments; ++i) {
    Payment p;
    ASSERT_TRUE(p.ParseFromString(EncodedPayment(i, 1000 + i)));
    p.set_reference("rent " + std::to_string(i));
    auto value = EncodePayment(p, GetParam());
    ASSERT_TRUE(value.ok()) << value.status();
    producer.Send("payments", i % 2, *value);
    sent.push_back(p);
  }
  producer.Flush();
  engine::Counter* processed = ProcessedCounter(&e.registry);
  ASSERT_NE(processed, nullptr);
  EXPECT_TRUE(WaitFor([&] { return processed->value() >= 2 * kPayments; },
                      std::chrono::seconds(20)))
      << processed->value() << " processed";
  // Everything in the topic (the legs, and idle markers, which are left
  // out), read until the timeout.
  auto read = testing::ReadTopic(cluster.bootstrap_servers(),
                                 "txflag.repartition", 2, 100000, 3000);
  ASSERT_TRUE(read.ok()) << read.status();
  int legs = 0, matched = 0;
  for (const testing::ConsumedMessage& message : *read) {
    // A txflag.v1.RepartitionLeg, read with protobuf (the engine writes it
    // by hand), with no headers.
    EXPECT_TRUE(message.headers.empty()) << message.key;
    txflag::v1::RepartitionLeg leg;
    if (!leg.ParseFromString(message.value)) {
      ADD_FAILURE() << "message keyed " << message.key
                    << " is not a RepartitionLeg";
      continue;
    }
    if (leg.side() == txflag::v1::RepartitionLeg::IDLE_MARKER) {
      EXPECT_TRUE(message.key.empty());
      continue;
    }
    ++legs;
    Payment carried;
    if (!carried.ParseFromString(leg.payment())) {
      ADD_FAILURE() << "leg keyed " << message.key << " carries no Payment";
      continue;
    }
    for (const Payment& p : sent) {
      if (p.id() != carried.id()) continue;
      EXPECT_TRUE(
          google::protobuf::util::MessageDifferencer::Equals(p, carried))
          << p.ShortDebugString() << " vs " << carried.ShortDebugString();
      ASSERT_TRUE(leg.side() == txflag::v1::RepartitionLeg::DEBIT ||
                  leg.side() == txflag::v1::RepartitionLeg::CREDIT);
      EXPECT_EQ(message.key, leg.side() == txflag::v1::RepartitionLeg::DEBIT
                                 ? p.debtor_account()
                                 : p.creditor_account());
      // Where stage 1 read it: payments/<partition>@<offset>.
      EXPECT_EQ(leg.source().rfind("payments/", 0), 0u) << leg.source();
      ++matched;
    }
  }
  EXPECT_EQ(legs, 2 * kPayments);
  EXPECT_EQ(matched, 2 * kPayments);
  ASSERT_TRUE(e.Stop().ok()) << e.status;
  ExpectNoDeadLetters(cluster, e.summary.dead_letters);
}

INSTANTIATE_TEST_SUITE_P(
    Encodings, RepartitionLegs,
    ::testing::Values(PaymentEncoding::kProtobuf, PaymentEncoding::kJson),
    [](const ::testing::TestParamInfo<PaymentEncoding>& info) {
      return std::string(info.param == PaymentEncoding::kProtobuf ? "Protobuf"
                                                                  : "Json");
    });

// The offset group `group` committed for `topic`/`partition`, asked of the
// brokers; -1 for none, -2 on an error.
int64_t CommittedOffset(const MockCluster& cluster, const std::string& group,
                        const std::string& topic, int32_t partition) {
  auto conf =
      internal::NewConf({{"bootstrap.servers", cluster.bootstrap_servers()},
                         {"group.id", group},
                         {"enable.auto.commit", "false"},
                         {"log_level", "2"}});
  if (!conf.ok()) return -2;
  auto rk = internal::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk.ok()) return -2;
  internal::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  if (rd_kafka_committed(rk->get(), list.get(), 5000) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -2;
  }
  const int64_t offset = list->elems[0].offset;
  return offset >= 0 ? offset : -1;
}

// Stage 1 sends its input offsets to the group only once every leg emitted
// before them is acknowledged, and a periodic commit does not wait for that.
// Here the repartition topic's broker answers 3 s late: the group's offset
// for the input must stay short of the 5 payments while their legs are
// unacknowledged (committing at once, as a commit that forgot the legs
// would, puts it at 5 within 200 ms), and reach them once they are.
TEST(RepartitionTopic, InputOffsetsWaitForTheirLegs) {
  RunningEngine e;
  ASSERT_NO_FATAL_FAILURE(e.Create(StreamMode::kRepartition, 1));
  MockCluster& cluster = e.cluster();
  for (const char* topic : {"payments", "alerts", "payments.dlq",
                            "txflag.repartition", "txflag.changelog"}) {
    ASSERT_TRUE(
        cluster
            .SetPartitionLeader(
                topic, 0, std::string(topic) == "txflag.repartition" ? 2 : 1)
            .ok());
  }
  ASSERT_TRUE(cluster.SetGroupCoordinator("txflag", 1).ok());
  e.o.allowed_lateness_seconds = 3600;
  ASSERT_NO_FATAL_FAILURE(e.Start());

  ASSERT_TRUE(cluster.SetBrokerRtt(2, 3000).ok());
  RawProducer producer(cluster);
  for (int i = 0; i < 5; ++i) {
    producer.Send("payments", 0, EncodedPayment(i, 1000 + i));
  }
  producer.Flush();
  // Stage 1 emits the legs once the partition is caught up and idle (300 ms
  // of silence); their acknowledgements come 3 s after they are sent.
  auto legs =
      e.registry.GetCounter("txflag_repartition_legs_produced_total",
                            "Payment legs produced to the repartition topic.");
  ASSERT_TRUE(legs.ok()) << legs.status();
  ASSERT_TRUE(
      WaitFor([&] { return (*legs)->value() >= 10; }, std::chrono::seconds(10)))
      << (*legs)->value() << " legs emitted";
  const auto emitted = Clock::now();
  while (Clock::now() - emitted < std::chrono::milliseconds(2000)) {
    const int64_t committed = CommittedOffset(cluster, "txflag", "payments", 0);
    EXPECT_GE(committed, -1);
    EXPECT_LT(committed, 5) << "committed before its legs were acknowledged";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(WaitFor(
      [&] { return CommittedOffset(cluster, "txflag", "payments", 0) == 5; },
      std::chrono::seconds(20)));
  ASSERT_TRUE(cluster.SetBrokerRtt(2, 0).ok());
  ASSERT_TRUE(e.Stop().ok()) << e.status;
  ExpectNoDeadLetters(cluster, e.summary.dead_letters);
}

// Stage 2 reads the legs an earlier txflag wrote (the Payment as the value,
// the side and source in headers), which an upgrade can find in the topic,
// and dead-letters a message that is neither, with its repartition location.
TEST(RepartitionTopic, ReadsEarlierLegsAndDeadLettersForeignMessages) {
  RunningEngine e;
  ASSERT_NO_FATAL_FAILURE(e.Create(StreamMode::kRepartition, 2));
  MockCluster& cluster = e.cluster();
  e.o.allowed_lateness_seconds = 3600;
  ASSERT_NO_FATAL_FAILURE(e.Start());

  RawProducer producer(cluster);
  Payment p;
  ASSERT_TRUE(p.ParseFromString(EncodedPayment(1, 1000)));
  // The debit leg as txflag wrote it up to 7b28626.
  producer.Send("txflag.repartition", 0, p.SerializeAsString(),
                p.debtor_account(),
                {{kLegHeader, "D"}, {kSourceHeader, "payments/0@0"}});
  // Not a leg: no headers, and the value is not a RepartitionLeg.
  producer.Send("txflag.repartition", 1, "not a leg", "someone");
  // A header leg whose side is unknown.
  producer.Send("txflag.repartition", 1, p.SerializeAsString(),
                p.creditor_account(),
                {{kLegHeader, "X"}, {kSourceHeader, "payments/0@0"}});
  producer.Flush();
  engine::Counter* processed = ProcessedCounter(&e.registry);
  ASSERT_NE(processed, nullptr);
  EXPECT_TRUE(WaitFor([&] { return processed->value() >= 3; },
                      std::chrono::seconds(20)))
      << processed->value() << " processed";
  ASSERT_TRUE(e.Stop().ok()) << e.status;
  EXPECT_EQ(e.summary.records_processed, 3);
  EXPECT_EQ(e.summary.dead_letters, 2);
  auto dlq = testing::ReadTopic(cluster.bootstrap_servers(), "payments.dlq", 2,
                                2, 5000);
  ASSERT_TRUE(dlq.ok()) << dlq.status();
  ASSERT_EQ(dlq->size(), 2u);
  std::vector<std::string> raws;
  for (const testing::ConsumedMessage& m : *dlq) {
    std::map<std::string, std::string> h(m.headers.begin(), m.headers.end());
    EXPECT_EQ(h[kDeadLetterTopicHeader], "txflag.repartition");
    EXPECT_EQ(h[kDeadLetterPartitionHeader], "1");
    EXPECT_NE(h[kDeadLetterReasonHeader].find("not a txflag.v1.RepartitionLeg"),
              std::string::npos)
        << h[kDeadLetterReasonHeader];
    raws.push_back(m.value);
  }
  std::vector<std::string> expected = {"not a leg", p.SerializeAsString()};
  std::sort(raws.begin(), raws.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(raws, expected);
}

}  // namespace
}  // namespace txflag::connectors::kafka
