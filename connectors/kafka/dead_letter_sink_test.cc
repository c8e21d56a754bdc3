// KafkaDeadLetterSink against the in-process mock cluster: what a consumer
// reads back (value bytes, key, every header), checkpoints, and Flush() when
// the brokers are gone.
#include "connectors/kafka/dead_letter_sink.h"

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "connectors/kafka/internal/rdkafka_handles.h"
#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/test_consumer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::connectors::kafka {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using Clock = std::chrono::steady_clock;

constexpr char kTopic[] = "payments.dlq";
constexpr int kPartitions = 3;

struct DeadLetter {
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;  // in order
};

// Reads `expected` messages of kTopic from the beginning, with headers.
std::vector<DeadLetter> ReadDeadLetters(const std::string& servers,
                                        size_t expected) {
  std::vector<DeadLetter> out;
  auto read = testing::ReadTopic(servers, kTopic, kPartitions, expected, 15000);
  EXPECT_TRUE(read.ok()) << read.status();
  if (!read.ok()) return out;
  for (testing::ConsumedMessage& m : *read) {
    out.push_back({std::move(m.key), std::move(m.value), std::move(m.headers)});
  }
  return out;
}

std::unique_ptr<MockCluster> StartCluster() {
  auto cluster = MockCluster::Start();
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return nullptr;
  EXPECT_TRUE((*cluster)->CreateTopic(kTopic, kPartitions, 3).ok());
  return std::move(*cluster);
}

KafkaDeadLetterSinkOptions Options(const MockCluster& cluster) {
  KafkaDeadLetterSinkOptions o;
  o.properties = {{"bootstrap.servers", cluster.bootstrap_servers()}};
  o.topic = kTopic;
  o.flush_timeout_ms = 20000;
  return o;
}

TEST(ParseKafkaLocation, KafkaAndOtherLocations) {
  auto loc = ParseKafkaLocation("payments/3@12345");
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->topic, "payments");
  EXPECT_EQ(loc->partition, 3);
  EXPECT_EQ(loc->offset, 12345);
  loc = ParseKafkaLocation("a.b_c-d/0@0");
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->topic, "a.b_c-d");
  for (const char* other :
       {"data/payments.csv:17", "payments.csv:3", "", "/1@2", "t/1@", "t/@2",
        "t/-1@2", "t/1@-2", "t/1@2x", "t/99999999999@2", "t1@2"}) {
    EXPECT_FALSE(ParseKafkaLocation(other).has_value()) << other;
  }
}

TEST(KafkaDeadLetterSink, ConsumerReadsBackValueKeyAndHeaders) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  auto sink = KafkaDeadLetterSink::Create(Options(*cluster));
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Restore("").ok());

  // Raw bytes as received: binary with NUL and high bytes, kept exactly.
  const std::string binary("\x0a\x02p1\x00\xff\x80 garbage", 15);
  const std::string json = R"({"id":"p2","amount_minor":-5})";
  const std::string row = "p3,2025-03-01T10:00:00Z,DK50,,12.3.4,DKK";
  ASSERT_TRUE(
      (*sink)->Write("payments/3@12345", "protobuf parse error", binary).ok());
  ASSERT_TRUE((*sink)
                  ->Write("payments.json/0@0", "amount_minor is negative", json)
                  .ok());
  ASSERT_TRUE(
      (*sink)
          ->Write("data/payments.csv:17", "amount '12.3.4' is invalid", row)
          .ok());
  absl::StatusOr<std::string> checkpoint = (*sink)->Flush();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(*checkpoint, "3");
  EXPECT_EQ((*sink)->stats().written, 3);
  EXPECT_EQ((*sink)->stats().delivered, 3);
  EXPECT_EQ((*sink)->stats().failed, 0);

  std::vector<DeadLetter> read =
      ReadDeadLetters(cluster->bootstrap_servers(), 3);
  ASSERT_EQ(read.size(), 3u);
  std::map<std::string, DeadLetter> by_key;
  for (DeadLetter& d : read) by_key[d.key] = std::move(d);
  ASSERT_EQ(by_key.count("payments/3@12345"), 1u);
  ASSERT_EQ(by_key.count("payments.json/0@0"), 1u);
  ASSERT_EQ(by_key.count("data/payments.csv:17"), 1u);

  const DeadLetter& a = by_key["payments/3@12345"];
  EXPECT_EQ(a.value, binary);
  EXPECT_THAT(a.headers,
              ElementsAre(Pair("txflag.reason", "protobuf parse error"),
                          Pair("txflag.source.topic", "payments"),
                          Pair("txflag.source.partition", "3"),
                          Pair("txflag.source.offset", "12345")));
  const DeadLetter& b = by_key["payments.json/0@0"];
  EXPECT_EQ(b.value, json);
  EXPECT_THAT(b.headers,
              ElementsAre(Pair("txflag.reason", "amount_minor is negative"),
                          Pair("txflag.source.topic", "payments.json"),
                          Pair("txflag.source.partition", "0"),
                          Pair("txflag.source.offset", "0")));
  const DeadLetter& c = by_key["data/payments.csv:17"];
  EXPECT_EQ(c.value, row);
  EXPECT_THAT(
      c.headers,
      ElementsAre(Pair("txflag.reason", "amount '12.3.4' is invalid"),
                  Pair("txflag.source.location", "data/payments.csv:17")));
}

TEST(KafkaDeadLetterSink, RestoreResumesTheCountAndTakesNothingBack) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  {
    auto sink = KafkaDeadLetterSink::Create(Options(*cluster));
    ASSERT_TRUE(sink.ok()) << sink.status();
    ASSERT_TRUE((*sink)->Write("payments/1@7", "bad", "x").ok());
    absl::StatusOr<std::string> checkpoint = (*sink)->Flush();
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    EXPECT_EQ(*checkpoint, "1");
  }
  // A rerun from an older checkpoint ("0") produces the same reject again:
  // identical, same source offset headers, for consumers to dedupe.
  auto sink = KafkaDeadLetterSink::Create(Options(*cluster));
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ((*sink)->Restore("not a count").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*sink)->Restore("0").ok());
  ASSERT_TRUE((*sink)->Write("payments/1@7", "bad", "x").ok());
  absl::StatusOr<std::string> checkpoint = (*sink)->Flush();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(*checkpoint, "1");
  ASSERT_TRUE((*sink)->Restore("41").ok());
  ASSERT_TRUE((*sink)->Write("payments/1@8", "bad", "y").ok());
  checkpoint = (*sink)->Flush();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(*checkpoint, "42");

  std::vector<DeadLetter> read =
      ReadDeadLetters(cluster->bootstrap_servers(), 3);
  ASSERT_EQ(read.size(), 3u);
  int repeats = 0;
  for (const DeadLetter& d : read) {
    if (d.key != "payments/1@7") continue;
    ++repeats;
    EXPECT_EQ(d.value, "x");
    EXPECT_THAT(d.headers,
                UnorderedElementsAre(Pair("txflag.reason", "bad"),
                                     Pair("txflag.source.topic", "payments"),
                                     Pair("txflag.source.partition", "1"),
                                     Pair("txflag.source.offset", "7")));
  }
  EXPECT_EQ(repeats, 2);
}

// What txflag run's in-process commit thread uses: a position, a wait for
// everything up to it (not for what came later), and the checkpoint Flush()
// would give there.
TEST(KafkaDeadLetterSink, WaitDeliveredCoversAPositionAndNotWhatCameLater) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  KafkaDeadLetterSinkOptions o = Options(*cluster);
  o.flush_timeout_ms = 500;
  o.on_client_error = [](const absl::Status&) {};
  auto sink = KafkaDeadLetterSink::Create(o);
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ((*sink)->position(), 0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        (*sink)->Write(absl::StrCat("payments/0@", i), "bad", "x").ok());
  }
  const int64_t first = (*sink)->position();
  EXPECT_EQ(first, 5);
  // The 500 ms timeout is for the brokers-down half below; a fresh producer
  // on a loaded machine (ctest -j2) can take longer than that to connect
  // and get its first acknowledgements, so this first wait may repeat.
  absl::Status delivered;
  for (int attempt = 0; attempt < 40; ++attempt) {
    delivered = (*sink)->WaitDelivered(first);
    if (delivered.ok()) break;
  }
  ASSERT_TRUE(delivered.ok()) << delivered;
  EXPECT_GE((*sink)->stats().delivered, 5);
  EXPECT_EQ((*sink)->CheckpointAt(first), "5");

  // Brokers gone: what is written now cannot be acknowledged, but the
  // position before it still counts as delivered.
  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  ASSERT_TRUE((*sink)->Write("payments/0@5", "bad", "y").ok());
  ASSERT_TRUE((*sink)->Write("payments/0@6", "bad", "z").ok());
  const int64_t second = (*sink)->position();
  EXPECT_EQ(second, 7);
  EXPECT_TRUE((*sink)->WaitDelivered(first).ok());
  EXPECT_EQ((*sink)->WaitDelivered(second).code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(cluster->SetBrokerUp(MockCluster::kAllBrokers).ok());
  absl::Status waited;
  for (int i = 0; i < 60; ++i) {  // librdkafka reconnects with backoff
    waited = (*sink)->WaitDelivered(second);
    if (waited.ok()) break;
  }
  ASSERT_TRUE(waited.ok()) << waited;
  EXPECT_EQ((*sink)->CheckpointAt(second), "7");
  absl::StatusOr<std::string> flushed = (*sink)->Flush();
  ASSERT_TRUE(flushed.ok()) << flushed.status();
  EXPECT_EQ(*flushed, (*sink)->CheckpointAt(second));
  EXPECT_EQ(ReadDeadLetters(cluster->bootstrap_servers(), 7).size(), 7u);
}

TEST(KafkaDeadLetterSink, FlushReportsUnavailableWhenBrokersStayDown) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  KafkaDeadLetterSinkOptions o = Options(*cluster);
  o.properties.push_back({"message.timeout.ms", "2000"});
  o.on_client_error = [](const absl::Status&) {};
  auto sink = KafkaDeadLetterSink::Create(o);
  ASSERT_TRUE(sink.ok()) << sink.status();
  const std::string account = "DK5000400440116243";
  ASSERT_TRUE((*sink)
                  ->Write("payments/0@1", "debtor_account " + account + " bad",
                          "raw " + account)
                  .ok());
  ASSERT_TRUE((*sink)->Write("data/p.csv:2", "bad " + account, account).ok());
  const auto start = Clock::now();
  absl::StatusOr<std::string> flushed = (*sink)->Flush();
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_FALSE(flushed.ok());
  EXPECT_EQ(flushed.status().code(), absl::StatusCode::kUnavailable)
      << flushed.status();
  EXPECT_LT(seconds, 15.0);
  EXPECT_THAT(std::string(flushed.status().message()), Not(HasSubstr(account)));
  EXPECT_EQ((*sink)->stats().failed, 2);
  // Sticky: later writes fail the same way.
  absl::Status again = (*sink)->Write("payments/0@2", "bad", "z");
  EXPECT_EQ(again.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace txflag::connectors::kafka
