// PaymentProducer against the in-process mock cluster: what a plain consumer
// reads back, and delivery errors when the brokers are gone.
#include "connectors/kafka/payment_producer.h"

#include <chrono>
#include <map>

#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/test_consumer.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace txflag::connectors::kafka {
namespace {

using ::testing::HasSubstr;
using txflag::v1::Payment;
using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 4;

// n payments among a few accounts; every 7th a cash deposit (no debtor).
std::vector<Payment> SomePayments(int n) {
  std::vector<Payment> out;
  for (int i = 0; i < n; ++i) {
    Payment p;
    p.set_id("p" + std::to_string(i));
    p.mutable_timestamp()->set_seconds(1740859200 + 60 * i);
    if (i % 7 == 0) {
      p.set_channel(Payment::CASH);
    } else {
      p.set_channel(Payment::MOBILE);
      p.set_debtor_account("DK" + std::to_string(i % 5));
      p.set_debtor_name("Debtor " + std::to_string(i % 5));
    }
    p.set_creditor_account("DK9" + std::to_string(i % 3));
    p.set_amount_minor(1000 + i);
    p.set_currency("DKK");
    p.set_reference("ref " + std::to_string(i));
    out.push_back(p);
  }
  return out;
}

std::unique_ptr<MockCluster> StartCluster() {
  auto cluster = MockCluster::Start();
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return nullptr;
  EXPECT_TRUE((*cluster)->CreateTopic("payments", kPartitions, 3).ok());
  return std::move(*cluster);
}

PaymentProducerOptions Options(const MockCluster& cluster,
                               PaymentEncoding encoding) {
  PaymentProducerOptions o;
  o.properties = {{"bootstrap.servers", cluster.bootstrap_servers()}};
  o.topic = "payments";
  o.encoding = encoding;
  return o;
}

void SendAndReadBack(PaymentEncoding encoding) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  const std::vector<Payment> payments = SomePayments(60);
  {
    auto producer = PaymentProducer::Create(Options(*cluster, encoding));
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (const Payment& p : payments) {
      ASSERT_TRUE((*producer)->Send(p).ok());
    }
    absl::Status flushed = (*producer)->Flush(10000);
    ASSERT_TRUE(flushed.ok()) << flushed;
    EXPECT_EQ((*producer)->stats().sent, 60);
    EXPECT_EQ((*producer)->stats().delivered, 60);
    EXPECT_EQ((*producer)->stats().failed, 0);
  }
  auto messages = testing::ReadTopic(cluster->bootstrap_servers(), "payments",
                                     kPartitions, payments.size());
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->size(), payments.size());
  auto count = testing::CountMessages(cluster->bootstrap_servers(), "payments",
                                      kPartitions);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 60);  // each once: the idempotent producer

  std::map<std::string, const Payment*> by_id;
  for (const Payment& p : payments) by_id[p.id()] = &p;
  std::map<std::string, int32_t> partition_of_key;
  for (const testing::ConsumedMessage& m : *messages) {
    Payment got;
    if (encoding == PaymentEncoding::kProtobuf) {
      ASSERT_TRUE(got.ParseFromString(m.value));
    } else {
      ASSERT_TRUE(
          google::protobuf::util::JsonStringToMessage(m.value, &got).ok())
          << m.value;
    }
    ASSERT_EQ(by_id.count(got.id()), 1u) << got.id();
    const Payment& sent = *by_id[got.id()];
    EXPECT_EQ(got.SerializeAsString(), sent.SerializeAsString()) << got.id();
    EXPECT_EQ(m.key, sent.debtor_account().empty() ? sent.creditor_account()
                                                   : sent.debtor_account());
    // One key, one partition: an account's payments stay in order.
    auto [it, inserted] = partition_of_key.emplace(m.key, m.partition);
    EXPECT_EQ(it->second, m.partition) << m.key;
    by_id.erase(got.id());
  }
  EXPECT_TRUE(by_id.empty());
}

TEST(PaymentProducer, ConsumerReadsBackKeysAndProtobufPayments) {
  SendAndReadBack(PaymentEncoding::kProtobuf);
}

TEST(PaymentProducer, ConsumerReadsBackKeysAndJsonPayments) {
  SendAndReadBack(PaymentEncoding::kJson);
}

TEST(PaymentProducer, FlushReportsUnavailableWhenBrokersStayDown) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  PaymentProducerOptions o = Options(*cluster, PaymentEncoding::kProtobuf);
  o.properties.push_back({"message.timeout.ms", "3000"});
  std::vector<absl::Status> client_errors;
  o.on_client_error = [&](const absl::Status& s) {
    client_errors.push_back(s);
  };
  auto producer = PaymentProducer::Create(o);
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (const Payment& p : SomePayments(5)) {
    ASSERT_TRUE((*producer)->Send(p).ok());
  }
  const auto start = Clock::now();
  absl::Status flushed = (*producer)->Flush(20000);
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(flushed.code(), absl::StatusCode::kUnavailable) << flushed;
  EXPECT_THAT(std::string(flushed.message()), HasSubstr("payments"));
  EXPECT_THAT(std::string(flushed.message()),
              HasSubstr(cluster->bootstrap_servers()));
  EXPECT_LT(seconds, 10.0);
  EXPECT_EQ((*producer)->stats().failed, 5);
  ASSERT_FALSE(client_errors.empty());
  EXPECT_EQ(client_errors.front().code(), absl::StatusCode::kUnavailable)
      << client_errors.front();
  // The error is sticky: nothing more is accepted.
  EXPECT_EQ((*producer)->Send(SomePayments(1)[0]).code(),
            absl::StatusCode::kUnavailable);
}

TEST(PaymentProducer, BrokersBackWithinTimeoutLoseNothing) {
  std::unique_ptr<MockCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  auto producer =
      PaymentProducer::Create(Options(*cluster, PaymentEncoding::kProtobuf));
  ASSERT_TRUE(producer.ok()) << producer.status();
  const std::vector<Payment> payments = SomePayments(20);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*producer)->Send(payments[i]).ok());
  ASSERT_TRUE((*producer)->Flush(10000).ok());
  ASSERT_TRUE(cluster->SetBrokerDown(MockCluster::kAllBrokers).ok());
  for (int i = 10; i < 20; ++i) {
    ASSERT_TRUE((*producer)->Send(payments[i]).ok());
  }
  // Still down: the messages wait (message.timeout.ms is 300 s by default).
  EXPECT_EQ((*producer)->Flush(500).code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(cluster->SetBrokerUp(MockCluster::kAllBrokers).ok());
  absl::Status flushed = (*producer)->Flush(20000);
  ASSERT_TRUE(flushed.ok()) << flushed;
  EXPECT_EQ((*producer)->stats().delivered, 20);
  auto messages = testing::ReadTopic(cluster->bootstrap_servers(), "payments",
                                     kPartitions, payments.size());
  ASSERT_TRUE(messages.ok()) << messages.status();
  EXPECT_EQ(messages->size(), payments.size());
  auto count = testing::CountMessages(cluster->bootstrap_servers(), "payments",
                                      kPartitions);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 20);
}

}  // namespace
}  // namespace txflag::connectors::kafka
